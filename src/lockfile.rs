//! `models.lock`: the schema, parsing with line/column positions, and validation.
//!
//! Parsing is done by hand over `toml`'s spanned document tree instead of serde, so that every
//! problem names its line, column and entry, and so that all problems are reported at once.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};
use url::Url;

use crate::formats::Fingerprint;
use crate::hash::Sha256Digest;
use crate::resolve::ResolveError;

/// The lockfile format versions this build reads. Bump when the meaning of a key changes or a
/// key is added that older builds must not ignore.
pub const VERSION: u32 = 1;

/// The file name looked for when discovering a lockfile.
pub const FILE_NAME: &str = "models.lock";

const MODEL_KEYS: &[&str] = &[
    "name",
    "url",
    "sha256",
    "size",
    "mirrors",
    "path",
    "aliases",
    "fingerprint",
];

/// A parsed, validated `models.lock`.
#[derive(Debug, Clone)]
pub struct Lockfile {
    /// Absolute path of the file.
    pub path: PathBuf,
    pub models: Vec<LockedModel>,
}

/// One `[[model]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedModel {
    /// Unique name: `[A-Za-z0-9._-]`, 1 to 64 characters.
    pub name: String,
    /// The primary source.
    pub url: Url,
    pub sha256: Sha256Digest,
    /// Size in bytes, when pinned.
    pub size: Option<u64>,
    /// Further sources, tried in order after `url`.
    pub mirrors: Vec<Url>,
    /// Where `fetch` links the verified file, relative to the lockfile's folder.
    pub path: Option<PathBuf>,
    /// Other names the entry is known by.
    pub aliases: Vec<String>,
    /// The structural fingerprint of a safetensors or GGUF file's header, for `verify --fast`
    /// and mismatch diagnosis.
    pub fingerprint: Option<Fingerprint>,
    /// 1-based line of the entry's `[[model]]` header.
    pub line: usize,
    /// 1-based line of the entry's `sha256` key.
    pub sha256_line: usize,
}

impl LockedModel {
    /// `url`, then each mirror, in the order they are tried.
    pub fn sources(&self) -> impl Iterator<Item = &Url> {
        std::iter::once(&self.url).chain(&self.mirrors)
    }
}

impl Lockfile {
    /// Reads and validates the lockfile at `path`.
    pub fn load(path: &Path) -> Result<Lockfile, LockfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| LockfileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        Lockfile::parse(&text, &path)
    }

    /// Validates lockfile `text`; `path` is used in messages and to resolve `path` keys.
    pub fn parse(text: &str, path: &Path) -> Result<Lockfile, LockfileError> {
        let mut parser = Parser {
            text,
            line_starts: std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
            problems: Vec::new(),
        };
        let models = parser.document();
        if parser.problems.is_empty() {
            Ok(Lockfile {
                path: path.to_path_buf(),
                models,
            })
        } else {
            Err(LockfileError::Invalid {
                path: path.to_path_buf(),
                problems: parser.problems,
            })
        }
    }

    /// The folder the lockfile is in; `path` keys are relative to it.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// The entry with exactly this name.
    pub fn get(&self, name: &str) -> Option<&LockedModel> {
        self.models.iter().find(|m| m.name == name)
    }

    /// The entries the queries name (all entries when there is none), in lockfile order; see
    /// [`crate::resolve`].
    pub fn select(&self, queries: &[String]) -> Result<Vec<&LockedModel>, ResolveError> {
        crate::resolve::resolve_all(self, queries)
    }
}

/// The known name closest to `query` by edit distance, if it is close enough to be a typo.
pub(crate) fn closest<'a>(query: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(query, k), *k))
        .filter(|(d, k)| *d <= (k.len().max(query.len()) / 3).max(1))
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A lockfile that could not be read or is not valid.
#[derive(Debug, thiserror::Error)]
pub enum LockfileError {
    #[error("could not read `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", problems.iter().map(|p| format!("`{}`:{p}", path.display())).collect::<Vec<_>>().join("\n"))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

/// One problem in a lockfile, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The entry's name, when the problem is inside a `[[model]]` that has one.
    pub entry: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.line, self.column)?;
        if let Some(entry) = &self.entry {
            write!(f, "model `{entry}`: ")?;
        }
        f.write_str(&self.message)
    }
}

struct Parser<'t> {
    text: &'t str,
    /// Byte offset where each line starts, for positions in O(log n).
    line_starts: Vec<usize>,
    problems: Vec<Problem>,
}

/// What is wrong with a name or alias, if anything.
pub fn name_problem(what: &str, name: &str) -> Option<String> {
    if name.is_empty() || name.chars().count() > 64 {
        Some(format!(
            "`{what}` must be 1 to 64 characters, found {}",
            name.chars().count()
        ))
    } else if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        Some(format!(
            "`{what}` `{name}` contains `{c}`; names may use only letters, digits, `.`, `_` and `-`"
        ))
    } else if name == "." || name == ".." {
        Some(format!("`{what}` cannot be `{name}`"))
    } else {
        None
    }
}

impl Parser<'_> {
    /// 1-based line and column (in characters) of a byte offset.
    fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = self.line_starts[line - 1];
        (line, self.text[line_start..offset].chars().count() + 1)
    }

    fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts[line - 1];
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        &self.text[start..end]
    }

    fn problem(&mut self, span: Range<usize>, entry: Option<&str>, message: impl Into<String>) {
        let (line, column) = self.position(span.start);
        self.problems.push(Problem {
            line,
            column,
            entry: entry.map(str::to_string),
            message: message.into(),
        });
    }

    fn document(&mut self) -> Vec<LockedModel> {
        let root = match DeTable::parse(self.text) {
            Ok(root) => root,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                let message = format!("invalid TOML: {}", e.message().trim_end());
                self.problem(span, None, message);
                return Vec::new();
            }
        };
        let root = root.into_inner();
        for (key, _) in root.iter() {
            if !matches!(key.get_ref().as_ref(), "version" | "model") {
                self.problem(
                    key.span(),
                    None,
                    format!(
                        "unknown top-level key `{}`; expected `version` or `[[model]]` tables",
                        key.get_ref()
                    ),
                );
            }
        }
        match root.get("version") {
            None => self.problem(
                0..0,
                None,
                format!(
                    "missing `version`; this build of cargo-models reads lockfile version {VERSION}: add `version = {VERSION}` at the top"
                ),
            ),
            Some(v) => match int_value(v.get_ref()) {
                Some(n) if n == i128::from(VERSION) => {}
                Some(n) => self.problem(
                    v.span(),
                    None,
                    format!(
                        "lockfile version {n} is not supported; this build of cargo-models reads version {VERSION} only{}",
                        if n > i128::from(VERSION) {
                            ": upgrade cargo-models"
                        } else {
                            ""
                        }
                    ),
                ),
                None => self.problem(
                    v.span(),
                    None,
                    format!(
                        "`version` must be an integer, found {}",
                        v.get_ref().type_str()
                    ),
                ),
            },
        }
        let Some(entries) = root.get("model") else {
            return Vec::new();
        };
        let Some(array) = entries.get_ref().as_array() else {
            self.problem(
                entries.span(),
                None,
                "`model` must be an array of tables, written as `[[model]]` sections",
            );
            return Vec::new();
        };
        let mut models: Vec<LockedModel> = Vec::new();
        let mut tables: Vec<&DeTable<'_>> = Vec::new();
        let mut names: HashMap<String, usize> = HashMap::new();
        let mut paths: HashMap<PathBuf, String> = HashMap::new();
        for item in array.iter() {
            let Some(table) = item.get_ref().as_table() else {
                self.problem(
                    item.span(),
                    None,
                    "each `model` must be a table, written as a `[[model]]` section",
                );
                continue;
            };
            let Some(model) = self.model(item.span(), table) else {
                continue;
            };
            if let Some(first_line) = names.get(&model.name) {
                let span = table.get("name").map(Spanned::span).unwrap_or(item.span());
                let message =
                    format!("duplicate name; the entry at line {first_line} has the same name");
                self.problem(span, Some(&model.name), message);
                continue;
            }
            if let Some(p) = &model.path {
                if let Some(other) = paths.get(p) {
                    let span = table.get("path").map(Spanned::span).unwrap_or(item.span());
                    let message = format!(
                        "`path` `{}` is already used by model `{other}`",
                        p.display()
                    );
                    self.problem(span, Some(&model.name), message);
                    continue;
                }
                paths.insert(p.clone(), model.name.clone());
            }
            names.insert(model.name.clone(), model.line);
            models.push(model);
            tables.push(table);
        }
        self.identities(&models, &tables, &names);
        models
    }

    /// Names, aliases and short hashes must each pick out one entry.
    fn identities(
        &mut self,
        models: &[LockedModel],
        tables: &[&DeTable<'_>],
        names: &HashMap<String, usize>,
    ) {
        let mut aliases: HashMap<&str, &str> = HashMap::new();
        let mut shorts: HashMap<String, &LockedModel> = HashMap::new();
        for (model, table) in models.iter().zip(tables) {
            let entry = Some(model.name.as_str());
            let spans: Vec<Range<usize>> = table
                .get("aliases")
                .and_then(|v| v.get_ref().as_array())
                .map(|a| a.iter().map(Spanned::span).collect())
                .unwrap_or_default();
            for (alias, span) in model.aliases.iter().zip(spans) {
                let message = if *alias == model.name {
                    Some(format!("alias `{alias}` is the model's own name"))
                } else if let Some(line) = names.get(alias) {
                    Some(format!(
                        "alias `{alias}` is the name of the model at line {line}"
                    ))
                } else {
                    aliases.get(alias.as_str()).map(|owner| {
                        format!("alias `{alias}` is already an alias of model `{owner}`")
                    })
                };
                match message {
                    Some(m) => self.problem(span, entry, m),
                    None => {
                        aliases.insert(alias, &model.name);
                    }
                }
            }
            let short = model.sha256.short();
            match shorts.get(&short) {
                Some(other) if other.sha256 != model.sha256 => {
                    let span = table.get("sha256").map(Spanned::span).unwrap_or(0..0);
                    let message = format!(
                        "the short hash `{short}` is also that of model `{}` (line {}), with different content; short hashes must tell models apart",
                        other.name, other.line
                    );
                    self.problem(span, entry, message);
                }
                _ => {
                    shorts.insert(short, model);
                }
            }
        }
    }

    fn model(&mut self, span: Range<usize>, table: &DeTable<'_>) -> Option<LockedModel> {
        let line = self.header_line(span.start);
        let before = self.problems.len();
        let name = self.name(span.clone(), table);
        let entry = name.as_deref();
        for (key, _) in table.iter() {
            if !MODEL_KEYS.contains(&key.get_ref().as_ref()) {
                let hint = closest(key.get_ref(), MODEL_KEYS)
                    .map(|k| format!("did you mean `{k}`? "))
                    .unwrap_or_default();
                self.problem(
                    key.span(),
                    entry,
                    format!(
                        "unknown key `{}`; {hint}expected one of: {}",
                        key.get_ref(),
                        MODEL_KEYS.join(", ")
                    ),
                );
            }
        }
        let url = self.url(table.get("url"), "url", entry, span.clone());
        let sha256 = self.sha256(table.get("sha256"), entry, span.clone());
        let sha256_line = table
            .get("sha256")
            .map_or(line, |v| self.position(v.span().start).0);
        let size = match table.get("size") {
            None => None,
            Some(v) => match int_value(v.get_ref()) {
                Some(n) if n >= 0 && n <= i128::from(u64::MAX) => Some(n as u64),
                _ => {
                    self.problem(
                        v.span(),
                        entry,
                        "`size` must be a non-negative integer number of bytes",
                    );
                    None
                }
            },
        };
        let mut mirrors = Vec::new();
        if let Some(v) = table.get("mirrors") {
            match v.get_ref().as_array() {
                Some(items) => {
                    for item in items.iter() {
                        if let Some(u) = self.url(Some(item), "mirrors", entry, span.clone()) {
                            mirrors.push(u);
                        }
                    }
                }
                None => self.problem(v.span(), entry, "`mirrors` must be an array of URLs"),
            }
        }
        let path = table.get("path").and_then(|v| self.link_path(v, entry));
        let aliases = self.aliases(table, entry);
        let fingerprint = match table.get("fingerprint") {
            None => None,
            Some(v) => self.string(v, "fingerprint", entry).and_then(|raw| {
                match raw.parse::<Fingerprint>() {
                    Ok(f) => Some(f),
                    Err(e) => {
                        self.problem(v.span(), entry, format!("`fingerprint` {e}"));
                        None
                    }
                }
            }),
        };
        if self.problems.len() > before {
            return None;
        }
        Some(LockedModel {
            name: name?,
            url: url?,
            sha256: sha256?,
            size,
            mirrors,
            path,
            aliases: aliases.into_iter().map(|(a, _)| a).collect(),
            fingerprint,
            line,
            sha256_line,
        })
    }

    /// The line of the `[[model]]` header that opens the table starting at `offset`.
    fn header_line(&self, offset: usize) -> usize {
        let (line, _) = self.position(offset);
        (1..=line)
            .rev()
            .find(|&l| self.line_text(l).trim_start().starts_with("[[model]]"))
            .unwrap_or(line)
    }

    fn string<'a>(
        &mut self,
        value: &'a Spanned<DeValue<'_>>,
        key: &str,
        entry: Option<&str>,
    ) -> Option<&'a str> {
        let s = value.get_ref().as_str();
        if s.is_none() {
            self.problem(
                value.span(),
                entry,
                format!(
                    "`{key}` must be a string, found {}",
                    value.get_ref().type_str()
                ),
            );
        }
        s
    }

    fn name(&mut self, span: Range<usize>, table: &DeTable<'_>) -> Option<String> {
        let Some(v) = table.get("name") else {
            self.problem(span, None, "missing required key `name`");
            return None;
        };
        let name = self.string(v, "name", None)?;
        match name_problem("name", name) {
            Some(m) => {
                self.problem(v.span(), None, m);
                None
            }
            None => Some(name.to_string()),
        }
    }

    fn aliases(&mut self, table: &DeTable<'_>, entry: Option<&str>) -> Vec<(String, Range<usize>)> {
        let Some(v) = table.get("aliases") else {
            return Vec::new();
        };
        let Some(items) = v.get_ref().as_array() else {
            self.problem(v.span(), entry, "`aliases` must be an array of names");
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            let Some(alias) = self.string(item, "aliases", entry) else {
                continue;
            };
            match name_problem("alias", alias) {
                Some(m) => self.problem(item.span(), entry, m),
                None => out.push((alias.to_string(), item.span())),
            }
        }
        out
    }

    fn url(
        &mut self,
        value: Option<&Spanned<DeValue<'_>>>,
        key: &str,
        entry: Option<&str>,
        span: Range<usize>,
    ) -> Option<Url> {
        let Some(v) = value else {
            self.problem(span, entry, format!("missing required key `{key}`"));
            return None;
        };
        let raw = self.string(v, key, entry)?;
        match Url::parse(raw) {
            Ok(u) if matches!(u.scheme(), "https" | "http" | "file") => {
                if u.scheme() != "file" && u.host_str().is_none_or(str::is_empty) {
                    self.problem(v.span(), entry, format!("`{key}` `{raw}` has no host"));
                    return None;
                }
                Some(u)
            }
            Ok(u) => {
                self.problem(
                    v.span(),
                    entry,
                    format!(
                        "`{key}` scheme `{}` is not supported; use https, http or file",
                        u.scheme()
                    ),
                );
                None
            }
            Err(e) => {
                self.problem(
                    v.span(),
                    entry,
                    format!("`{key}` `{raw}` is not a valid URL: {e}"),
                );
                None
            }
        }
    }

    fn sha256(
        &mut self,
        value: Option<&Spanned<DeValue<'_>>>,
        entry: Option<&str>,
        span: Range<usize>,
    ) -> Option<Sha256Digest> {
        let Some(v) = value else {
            self.problem(
                span,
                entry,
                "missing required key `sha256`; `cargo models add URL` computes it",
            );
            return None;
        };
        let raw = self.string(v, "sha256", entry)?;
        match raw.parse() {
            Ok(d) => Some(d),
            Err(e) => {
                self.problem(v.span(), entry, format!("`sha256` {e}"));
                None
            }
        }
    }

    fn link_path(&mut self, v: &Spanned<DeValue<'_>>, entry: Option<&str>) -> Option<PathBuf> {
        let raw = self.string(v, "path", entry)?;
        let path = PathBuf::from(raw);
        let message = if raw.is_empty() {
            Some("`path` is empty".to_string())
        } else if path.is_absolute() || path.has_root() || raw.starts_with('/') {
            Some(format!(
                "`path` `{raw}` is absolute; it must be relative to the lockfile's folder"
            ))
        } else if path.components().any(|c| c == Component::ParentDir) {
            Some(format!(
                "`path` `{raw}` contains `..`; it must stay inside the lockfile's folder"
            ))
        } else if path.file_name().is_none() {
            Some(format!("`path` `{raw}` does not name a file"))
        } else {
            None
        };
        match message {
            Some(m) => {
                self.problem(v.span(), entry, m);
                None
            }
            // `./m/w.bin` and `m/w.bin` are one place.
            None => Some(
                path.components()
                    .filter(|c| *c != Component::CurDir)
                    .collect(),
            ),
        }
    }
}

fn int_value(v: &DeValue<'_>) -> Option<i128> {
    let i = v.as_integer()?;
    let digits: String = i.as_str().chars().filter(|c| *c != '_').collect();
    let (negative, digits) = match digits.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, digits.trim_start_matches('+').to_string()),
    };
    let prefix = match i.radix() {
        16 => "0x",
        8 => "0o",
        2 => "0b",
        _ => "",
    };
    let digits = digits.strip_prefix(prefix).unwrap_or(&digits);
    let n = i128::from_str_radix(digits, i.radix()).ok()?;
    Some(if negative { -n } else { n })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn parse(text: &str) -> Result<Lockfile, Vec<String>> {
        Lockfile::parse(text, Path::new("models.lock")).map_err(|e| match e {
            LockfileError::Invalid { problems, .. } => {
                problems.iter().map(ToString::to_string).collect()
            }
            other => vec![other.to_string()],
        })
    }

    #[test]
    fn parses_a_full_entry() {
        let text = format!(
            "# comment\nversion = 1\n\n[[model]]\nname = \"tiny-bert\"\nurl = \"https://example.org/t.safetensors\"\nsha256 = \"{}\"\nsize = 1_024\nmirrors = [\"https://m.example/t\"]\npath = \"models/t.safetensors\"\n",
            HASH.to_uppercase()
        );
        let lock = parse(&text).unwrap();
        let m = &lock.models[0];
        assert_eq!(m.name, "tiny-bert");
        assert_eq!(m.sha256.to_string(), HASH);
        assert_eq!(m.size, Some(1024));
        assert_eq!(m.mirrors.len(), 1);
        assert_eq!(m.path.as_deref(), Some(Path::new("models/t.safetensors")));
        assert_eq!((m.line, m.sha256_line), (4, 7));
    }

    #[test]
    fn reports_every_problem_with_position() {
        let text = format!(
            "version = 1\n[[model]]\nname = \"a/b\"\nurl = \"ftp://x/y\"\nsha256 = \"abc\"\n[[model]]\nname = \"ok\"\nurl = \"https://x/y\"\nsha265 = \"{HASH}\"\npath = \"../up\"\n"
        );
        let problems = parse(&text).unwrap_err();
        assert_eq!(
            problems,
            vec![
                "3:8: `name` `a/b` contains `/`; names may use only letters, digits, `.`, `_` and `-`",
                "4:7: `url` scheme `ftp` is not supported; use https, http or file",
                "5:10: `sha256` must be 64 hex digits, found 3",
                "9:1: model `ok`: unknown key `sha265`; did you mean `sha256`? expected one of: name, url, sha256, size, mirrors, path, aliases, fingerprint",
                "6:1: model `ok`: missing required key `sha256`; `cargo models add URL` computes it",
                "10:8: model `ok`: `path` `../up` contains `..`; it must stay inside the lockfile's folder",
            ]
        );
    }

    #[test]
    fn rejects_unknown_versions() {
        assert_eq!(
            parse("version = 2\n").unwrap_err(),
            vec![
                "1:11: lockfile version 2 is not supported; this build of cargo-models reads version 1 only: upgrade cargo-models"
            ]
        );
        assert!(parse("").unwrap_err()[0].contains("missing `version`"));
        assert!(parse("version = 0\n").unwrap_err()[0].contains("version 0 is not supported"));
    }

    #[test]
    fn rejects_duplicates_and_absolute_paths() {
        let entry = |name: &str, path: &str| {
            format!(
                "[[model]]\nname = \"{name}\"\nurl = \"https://x/y\"\nsha256 = \"{HASH}\"\npath = \"{path}\"\n"
            )
        };
        let text = format!(
            "version = 1\n{}{}{}",
            entry("a", "m/a"),
            entry("a", "m/b"),
            entry("c", "/etc/passwd")
        );
        assert_eq!(
            parse(&text).unwrap_err(),
            vec![
                "8:8: model `a`: duplicate name; the entry at line 2 has the same name",
                "16:8: model `c`: `path` `/etc/passwd` is absolute; it must be relative to the lockfile's folder",
            ]
        );
    }

    #[test]
    fn names_aliases_and_short_hashes_must_be_unambiguous() {
        let entry = |name: &str, hash: &str, aliases: &str| {
            format!(
                "[[model]]\nname = \"{name}\"\nurl = \"https://x/y\"\nsha256 = \"{hash}\"\naliases = [{aliases}]\n"
            )
        };
        let a = format!("abcdef0123{}", "0".repeat(54));
        let b = format!("abcdef0123{}", "1".repeat(54));
        let c = "c".repeat(64);
        let text = format!(
            "version = 1\n{}{}{}",
            entry("one", &a, "\"first\", \"one\""),
            entry("two", &b, "\"first\", \"three\""),
            entry("three", &c, "")
        );
        assert_eq!(
            parse(&text).unwrap_err(),
            vec![
                "6:21: model `one`: alias `one` is the model's own name",
                "11:12: model `two`: alias `first` is already an alias of model `one`",
                "11:21: model `two`: alias `three` is the name of the model at line 12",
                "10:10: model `two`: the short hash `abcdef0123` is also that of model `one` (line 2), with different content; short hashes must tell models apart",
            ]
        );
    }

    #[test]
    fn sizes_in_any_base_and_paths_in_any_spelling() {
        let entry = |name: &str, size: &str, path: &str| {
            format!(
                "[[model]]\nname = \"{name}\"\nurl = \"https://x/{name}\"\nsha256 = \"{}\"\nsize = {size}\npath = \"{path}\"\n",
                name.repeat(64)
            )
        };
        let lock = parse(&format!("version = 1\n{}", entry("a", "0x0bad", "m/a.bin"))).unwrap();
        assert_eq!(lock.models[0].size, Some(0x0bad));
        let problems = parse(&format!(
            "version = 1\n{}{}",
            entry("a", "1", "./m/w.bin"),
            entry("b", "2", "m/w.bin")
        ))
        .unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("is already used by model `a`"),
            "{problems:?}"
        );
    }

    #[test]
    fn suggests_close_names() {
        assert_eq!(
            closest("tiny-bret", &["tiny-bert", "llama"]),
            Some("tiny-bert")
        );
        assert_eq!(closest("zzz", &["tiny-bert", "llama"]), None);
    }
}
