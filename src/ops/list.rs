//! `cargo models list`: the lockfile's entries and whether each is cached.

use serde::Serialize;

use crate::cache::{BlobState, Cache};
use crate::lockfile::LockedModel;
use crate::report::human_size;

/// One row of `list`.
#[derive(Debug, Clone, Serialize)]
pub struct ListedModel {
    pub name: String,
    pub aliases: Vec<String>,
    pub sha256: String,
    /// First 10 hex digits of `sha256`.
    pub short: String,
    pub size: Option<u64>,
    pub url: String,
    /// `cached` (stamped), `unverified` (present, must be rehashed) or `missing`.
    pub state: &'static str,
    /// The blob's path when present.
    pub path: Option<String>,
}

/// The rows for `models`, from cache metadata only (nothing is hashed).
pub fn list(models: &[&LockedModel], cache: &Cache) -> Vec<ListedModel> {
    models
        .iter()
        .map(|m| {
            let state = cache.state(&m.sha256);
            ListedModel {
                name: m.name.clone(),
                aliases: m.aliases.clone(),
                sha256: m.sha256.to_hex(),
                short: m.sha256.short(),
                size: m.size.or_else(|| cache.blob_size(&m.sha256)),
                url: crate::auth::redact_url(&m.url),
                state: match state {
                    BlobState::Fresh => "cached",
                    BlobState::Unstamped => "unverified",
                    BlobState::Missing => "missing",
                },
                path: (state != BlobState::Missing)
                    .then(|| cache.blob_path(&m.sha256).display().to_string()),
            }
        })
        .collect()
}

/// A plain, aligned table of `rows`.
pub fn render_table(rows: &[ListedModel]) -> String {
    let header = ["NAME", "SHA256", "SIZE", "STATE", "ALIASES"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                r.short.clone(),
                r.size.map_or("-".to_string(), human_size),
                r.state.to_string(),
                r.aliases.join(", "),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.len());
        }
    }
    let mut out = String::new();
    let mut push = |row: [&str; 5]| {
        let line = format!(
            "{:<w0$}  {:<w1$}  {:>w2$}  {:<w3$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    };
    push(header);
    for row in &cells {
        push([&row[0], &row[1], &row[2], &row[3], &row[4]]);
    }
    out
}
