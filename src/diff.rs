//! Differences between two versions of `models.lock`, as a reviewer needs them: which entries
//! were added, removed, renamed or changed and how (the bytes, or only where they come from, or
//! only metadata), and the flags that must not be missed: a new host, a source that follows a
//! branch instead of a commit, plain http, a file replaced upstream under the same URL, and a
//! large change of the total download.
//!
//! Pure: [`LockDiff::new`] compares two parsed [`Lockfile`]s; reading them from files or git
//! revisions is [`crate::ops::diff`]'s job. Renderers: [`render_text`], [`render_markdown`],
//! [`render_json`], and [`textconv`] for git's diff driver.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use url::Url;

use crate::hash::Sha256Digest;
use crate::lockfile::{LockedModel, Lockfile};
use crate::report::human_size;

/// Version of the JSON written by `cargo models diff --format json`. Bump it when a field is
/// removed or changes meaning; adding a field does not bump it.
pub const JSON_VERSION: u32 = 1;

/// A change of the total download size by more than this many percent is flagged.
pub const SIZE_FLAG_PERCENT: u64 = 10;

/// A forge whose download URLs name a git revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forge {
    /// `huggingface.co/<repo>/resolve/<rev>/<file>` (also `hf.co`, and `datasets/…`).
    HuggingFace,
    /// `raw.githubusercontent.com/<owner>/<repo>/<rev>/<file>` and
    /// `github.com/<owner>/<repo>/raw/<rev>/<file>` (or `blob`).
    GitHub,
    /// `gitlab.com/<group>/<repo>/-/raw/<rev>/<file>`.
    GitLab,
}

/// The git revision a source URL on a known [`Forge`] downloads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub forge: Forge,
    /// As written in the URL: `main`, `v1.0`, or a commit hash.
    pub name: String,
    /// Index of the revision among the URL's path segments.
    pub segment: usize,
}

impl Revision {
    /// A full commit hash cannot move; any other revision (a branch, a tag) can.
    pub fn is_commit(&self) -> bool {
        self.name.len() == 40 && self.name.bytes().all(|b| b.is_ascii_hexdigit())
    }
}

/// The revision `url` downloads from, when it is a file URL of a known [`Forge`].
pub fn revision(url: &Url) -> Option<Revision> {
    let host = url.host_str()?;
    let parts: Vec<&str> = url.path_segments()?.collect();
    let (forge, segment) = match host {
        "huggingface.co" | "hf.co" => (
            Forge::HuggingFace,
            parts.iter().position(|p| *p == "resolve")? + 1,
        ),
        "raw.githubusercontent.com" => (Forge::GitHub, 2),
        "github.com" if matches!(parts.get(2), Some(&("raw" | "blob"))) => (Forge::GitHub, 3),
        "gitlab.com" => (
            Forge::GitLab,
            parts.windows(2).position(|w| w == ["-", "raw"])? + 2,
        ),
        _ => return None,
    };
    let name = parts.get(segment).filter(|s| !s.is_empty())?;
    Some(Revision {
        forge,
        name: percent_encoding::percent_decode_str(name)
            .decode_utf8_lossy()
            .into_owned(),
        segment,
    })
}

/// Where one side of a diff was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    /// How output names this side: `HEAD:models.lock`, `models.lock`.
    pub label: String,
    /// The git revision it was read at, as given; `None` for a file on disk.
    pub revision: Option<String>,
    /// The lockfile's path: relative to the repository root at a revision, else as shown.
    pub path: String,
    /// `false` when there is no lockfile there; it then counts as empty.
    pub exists: bool,
}

impl Origin {
    /// A lockfile on disk, labelled by `path`.
    pub fn file(path: &Path, exists: bool) -> Origin {
        let path = path.display().to_string();
        Origin {
            label: path.clone(),
            revision: None,
            path,
            exists,
        }
    }
}

/// One side of a diff: where it comes from and what it adds up to.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    #[serde(flatten)]
    pub origin: Origin,
    /// Number of entries.
    pub models: usize,
    /// Sum of the pinned sizes, in bytes; entries without `size` are not counted.
    pub size: u64,
    /// Entries without `size`, by name: their size is unknown.
    pub unknown_size: Vec<String>,
}

/// What kind of change an entry went through. Ordered as output lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// A name that is new, whose hash no removed entry had.
    Added,
    /// A name that is gone, whose hash no added entry has.
    Removed,
    /// The same SHA-256 under a new name (other keys may have changed too).
    Renamed,
    /// Same name, other SHA-256: the bytes changed.
    ContentChanged,
    /// Same name and hash; `url` or `mirrors` changed.
    SourceChanged,
    /// Same name, hash and sources; only `path`, `aliases` or `size` changed.
    MetadataChanged,
}

impl ChangeKind {
    /// The words output uses for it.
    pub fn label(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Renamed => "renamed",
            ChangeKind::ContentChanged => "content changed",
            ChangeKind::SourceChanged => "source changed",
            ChangeKind::MetadataChanged => "metadata changed",
        }
    }

    const ALL: [ChangeKind; 6] = [
        ChangeKind::Added,
        ChangeKind::Removed,
        ChangeKind::Renamed,
        ChangeKind::ContentChanged,
        ChangeKind::SourceChanged,
        ChangeKind::MetadataChanged,
    ];
}

/// A key of a `[[model]]` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Field {
    Name,
    Sha256,
    Size,
    Url,
    Mirrors,
    Path,
    Aliases,
}

impl Field {
    fn key(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Sha256 => "sha256",
            Field::Size => "size",
            Field::Url => "url",
            Field::Mirrors => "mirrors",
            Field::Path => "path",
            Field::Aliases => "aliases",
        }
    }
}

/// An entry's values on one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryState {
    pub sha256: Sha256Digest,
    pub size: Option<u64>,
    pub url: String,
    pub mirrors: Vec<String>,
    pub path: Option<String>,
    pub aliases: Vec<String>,
}

impl EntryState {
    fn new(m: &LockedModel) -> EntryState {
        EntryState {
            sha256: m.sha256,
            size: m.size,
            url: m.url.to_string(),
            mirrors: m.mirrors.iter().map(Url::to_string).collect(),
            path: m.path.as_deref().map(slash_path),
            aliases: m.aliases.clone(),
        }
    }

    /// The value of `field` as output shows it; `None` when it is absent or empty.
    fn value(&self, field: Field) -> Option<String> {
        let list = |v: &[String]| (!v.is_empty()).then(|| v.join(", "));
        match field {
            Field::Name => None,
            Field::Sha256 => Some(self.sha256.short()),
            Field::Size => Some(size_or_unknown(self.size)),
            Field::Url => Some(self.url.clone()),
            Field::Mirrors => list(&self.mirrors),
            Field::Path => self.path.clone(),
            Field::Aliases => list(&self.aliases),
        }
    }

    fn show(&self, field: Field) -> String {
        self.value(field).unwrap_or_else(|| "(none)".to_string())
    }

    fn show_markdown(&self, field: Field) -> String {
        self.value(field)
            .map_or_else(|| "*none*".to_string(), |v| code(&v))
    }
}

/// What happened to one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    /// The entry's name: the new one after a rename, the old one for a removal.
    pub name: String,
    /// The name before a rename.
    pub old_name: Option<String>,
    /// The keys whose values differ (for `added` and `removed`: none).
    pub fields: Vec<Field>,
    /// The entry before; `None` when added.
    pub old: Option<EntryState>,
    /// The entry after; `None` when removed.
    pub new: Option<EntryState>,
    /// New size minus old size in bytes (the size when added, minus it when removed); `None`
    /// when a size it needs is unknown.
    pub size_delta: Option<i64>,
}

impl Change {
    fn state(&self) -> &EntryState {
        self.new
            .as_ref()
            .or(self.old.as_ref())
            .expect("a change has a side")
    }

    /// `old → new` for a rename, else the name.
    fn title(&self, code: fn(&str) -> String) -> String {
        match &self.old_name {
            Some(old) => format!("{} → {}", code(old), code(&self.name)),
            None => code(&self.name),
        }
    }

    fn hashes(&self) -> String {
        match (&self.old, &self.new) {
            (Some(o), Some(n)) if o.sha256 != n.sha256 => {
                format!("{} → {}", o.sha256.short(), n.sha256.short())
            }
            _ => self.state().sha256.short(),
        }
    }

    fn sizes(&self) -> String {
        match (&self.old, &self.new) {
            (Some(o), Some(n)) if o.size != n.size => {
                let delta = self
                    .size_delta
                    .map(|d| format!(" ({})", signed_size(i128::from(d))))
                    .unwrap_or_default();
                format!(
                    "{} → {}{delta}",
                    size_or_unknown(o.size),
                    size_or_unknown(n.size)
                )
            }
            _ => size_or_unknown(self.state().size),
        }
    }

    /// The keys shown on lines of their own: the sources of a new entry, and every changed key
    /// that the name, hash and size columns do not already show.
    fn detail_fields(&self) -> Vec<Field> {
        match (&self.old, &self.new) {
            (None, Some(n)) => {
                let mut f = vec![Field::Url];
                if !n.mirrors.is_empty() {
                    f.push(Field::Mirrors);
                }
                if n.path.is_some() {
                    f.push(Field::Path);
                }
                if !n.aliases.is_empty() {
                    f.push(Field::Aliases);
                }
                f
            }
            _ => self
                .fields
                .iter()
                .copied()
                .filter(|f| !matches!(f, Field::Name | Field::Sha256 | Field::Size))
                .collect(),
        }
    }
}

/// A property of the new lockfile that a reviewer must not miss.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Flag {
    /// A source on a host that no entry of the old lockfile used.
    NewHost {
        host: String,
        /// The entries with a source there.
        names: Vec<String>,
    },
    /// A source that follows a branch or tag, which the entry did not have before: the file
    /// behind it can change.
    MovingRevision {
        name: String,
        /// `url` or `mirrors`.
        field: Field,
        url: String,
        /// The branch or tag it follows.
        revision: String,
        /// The commit the entry's sources were pinned to before, if any.
        pinned_revision: Option<String>,
    },
    /// A plain `http://` source that the entry did not have before.
    InsecureHttp {
        name: String,
        /// `url` or `mirrors`.
        field: Field,
        url: String,
    },
    /// The hash changed but the `url` did not: the file upstream was replaced.
    ReplacedUpstream {
        name: String,
        url: String,
        old_sha256: Sha256Digest,
        new_sha256: Sha256Digest,
    },
    /// The total of the known sizes changed by more than [`SIZE_FLAG_PERCENT`] percent.
    TotalSize {
        old: u64,
        new: u64,
        delta: i64,
        /// `delta` in percent of `old`, to one decimal; `None` when `old` is 0.
        percent: Option<f64>,
    },
}

impl Flag {
    fn order(&self) -> (u8, &str) {
        match self {
            Flag::NewHost { host, .. } => (0, host),
            Flag::MovingRevision { name, .. } => (1, name),
            Flag::InsecureHttp { name, .. } => (2, name),
            Flag::ReplacedUpstream { name, .. } => (3, name),
            Flag::TotalSize { .. } => (4, ""),
        }
    }

    /// The entries the flag is about.
    pub fn names(&self) -> Vec<&str> {
        match self {
            Flag::NewHost { names, .. } => names.iter().map(String::as_str).collect(),
            Flag::MovingRevision { name, .. }
            | Flag::InsecureHttp { name, .. }
            | Flag::ReplacedUpstream { name, .. } => vec![name],
            Flag::TotalSize { .. } => Vec::new(),
        }
    }

    /// A few words naming the flag.
    pub fn title(&self) -> &'static str {
        match self {
            Flag::NewHost { .. } => "new host",
            Flag::MovingRevision { .. } => "moving revision",
            Flag::InsecureHttp { .. } => "plain http",
            Flag::ReplacedUpstream { .. } => "replaced upstream",
            Flag::TotalSize { .. } => "download size",
        }
    }

    /// What the reviewer should know, with names and URLs in backticks.
    pub fn message(&self) -> String {
        let source = |field: &Field| match field {
            Field::Mirrors => "a mirror",
            _ => "the url",
        };
        match self {
            Flag::NewHost { host, names } => format!(
                "`{host}`, used by no entry before, now by {}",
                ticked(names)
            ),
            Flag::MovingRevision {
                name,
                field,
                url,
                revision,
                pinned_revision,
            } => format!(
                "`{name}`: {} follows `{revision}`{}, so the file behind it can change: `{url}`",
                source(field),
                pinned_revision
                    .as_ref()
                    .map_or(", not a commit".to_string(), |c| format!(
                        " instead of commit `{}`",
                        &c[..c.len().min(10)]
                    ))
            ),
            Flag::InsecureHttp { name, field, url } => format!(
                "`{name}`: {} uses plain http instead of https: `{url}`",
                source(field)
            ),
            Flag::ReplacedUpstream {
                name,
                url,
                old_sha256,
                new_sha256,
            } => format!(
                "`{name}`: the hash changed ({} → {}) but the url did not: the file at `{url}` was replaced",
                old_sha256.short(),
                new_sha256.short()
            ),
            Flag::TotalSize {
                old,
                new,
                delta,
                percent,
            } => format!(
                "the total download {} by {} ({}): {} → {}",
                if *delta < 0 { "shrank" } else { "grew" },
                human_size(delta.unsigned_abs()),
                percent.map_or("from nothing".to_string(), |p| format!("{p:+.1}%")),
                human_size(*old),
                human_size(*new)
            ),
        }
    }
}

/// The differences between two lockfiles. Serialized, it is the documented JSON of
/// `cargo models diff --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct LockDiff {
    /// [`JSON_VERSION`].
    pub version: u32,
    pub old: Side,
    pub new: Side,
    /// Ordered by kind (added, removed, renamed, content, source, metadata), then name.
    pub changes: Vec<Change>,
    /// Ordered by kind (new host, moving revision, plain http, replaced upstream, size), then
    /// host or name.
    pub flags: Vec<Flag>,
}

impl LockDiff {
    /// Compares `old` (read from `old_origin`) with `new`. Entries are matched by name; an entry
    /// whose name is gone and whose SHA-256 is that of an entry with a new name was renamed.
    pub fn new(old: &Lockfile, old_origin: Origin, new: &Lockfile, new_origin: Origin) -> Self {
        let old_by_name: BTreeMap<&str, &LockedModel> =
            old.models.iter().map(|m| (m.name.as_str(), m)).collect();
        let new_by_name: BTreeMap<&str, &LockedModel> =
            new.models.iter().map(|m| (m.name.as_str(), m)).collect();
        let mut removed: Vec<&LockedModel> = old_by_name
            .iter()
            .filter(|(n, _)| !new_by_name.contains_key(*n))
            .map(|(_, m)| *m)
            .collect();
        // The old entry of every new one that has one, by the new entry's name.
        let mut before: HashMap<&str, &LockedModel> = HashMap::new();
        let mut changes = Vec::new();
        for (name, n) in &new_by_name {
            let old_entry = match old_by_name.get(name) {
                Some(o) => Some(*o),
                None => {
                    // A rename: prefer an old entry that also had the same url.
                    let same_hash = |o: &&LockedModel| o.sha256 == n.sha256;
                    removed
                        .iter()
                        .position(|o| same_hash(o) && o.url == n.url)
                        .or_else(|| removed.iter().position(same_hash))
                        .map(|i| removed.remove(i))
                }
            };
            match old_entry {
                Some(o) => {
                    before.insert(name, o);
                    if let Some(change) = compare(o, n) {
                        changes.push(change);
                    }
                }
                None => changes.push(Change {
                    kind: ChangeKind::Added,
                    name: n.name.clone(),
                    old_name: None,
                    fields: Vec::new(),
                    old: None,
                    new: Some(EntryState::new(n)),
                    size_delta: n.size.map(saturating_i64),
                }),
            }
        }
        for o in removed {
            changes.push(Change {
                kind: ChangeKind::Removed,
                name: o.name.clone(),
                old_name: None,
                fields: Vec::new(),
                old: Some(EntryState::new(o)),
                new: None,
                size_delta: o.size.map(|s| -saturating_i64(s)),
            });
        }
        changes.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));

        let old = side(old, old_origin);
        let new_side = side(new, new_origin);
        let mut flags = entry_flags(old_by_name.values().copied(), &new_by_name, &before);
        if let Some(flag) = size_flag(old.size, new_side.size) {
            flags.push(flag);
        }
        flags.sort_by(|a, b| a.order().cmp(&b.order()));
        LockDiff {
            version: JSON_VERSION,
            old,
            new: new_side,
            changes,
            flags,
        }
    }

    /// Whether a flag is about the entry `name` (its new name, after a rename).
    pub fn flagged(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f.names().contains(&name))
    }

    /// Whether any entry changed.
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// How many changes of each kind, as `2 added, 1 removed`.
    fn counts(&self) -> String {
        ChangeKind::ALL
            .iter()
            .filter_map(|k| {
                let n = self.changes.iter().filter(|c| c.kind == *k).count();
                (n > 0).then(|| format!("{n} {}", k.label()))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// What to say about a side that has no lockfile.
    fn notes(&self) -> Vec<String> {
        [&self.old, &self.new]
            .iter()
            .filter(|s| !s.origin.exists)
            .map(|s| {
                format!(
                    "there is no lockfile at `{}`; it counts as empty",
                    s.origin.label
                )
            })
            .collect()
    }

    /// `4.4 GiB → 7.9 GiB (+3.5 GiB, +79.5%)`.
    fn total(&self) -> String {
        let (old, new) = (self.old.size, self.new.size);
        let delta = i128::from(new) - i128::from(old);
        let percent = if old == 0 {
            String::new()
        } else {
            format!(", {:+.1}%", percent(delta, old))
        };
        format!(
            "{} → {} ({}{percent})",
            human_size(old),
            human_size(new),
            signed_size(delta)
        )
    }

    /// Which entries the totals leave out, as `` `a` (old), `b` (old and new) ``; empty when
    /// none.
    fn uncounted(&self) -> String {
        let (old, new) = (&self.old.unknown_size, &self.new.unknown_size);
        let names: BTreeSet<&String> = old.iter().chain(new).collect();
        names
            .into_iter()
            .map(|n| {
                let sides = match (old.contains(n), new.contains(n)) {
                    (true, true) => "old and new",
                    (true, false) => "old",
                    _ => "new",
                };
                format!("`{n}` ({sides})")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn side(lockfile: &Lockfile, origin: Origin) -> Side {
    let mut unknown_size: Vec<String> = lockfile
        .models
        .iter()
        .filter(|m| m.size.is_none())
        .map(|m| m.name.clone())
        .collect();
    unknown_size.sort();
    Side {
        origin,
        models: lockfile.models.len(),
        size: lockfile.models.iter().filter_map(|m| m.size).sum(),
        unknown_size,
    }
}

/// The change from `o` to `n` (same name, or a rename), if there is one.
fn compare(o: &LockedModel, n: &LockedModel) -> Option<Change> {
    let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<String>>();
    let mut fields = Vec::new();
    for (field, differs) in [
        (Field::Name, o.name != n.name),
        (Field::Sha256, o.sha256 != n.sha256),
        (Field::Size, o.size != n.size),
        (Field::Url, o.url != n.url),
        (Field::Mirrors, o.mirrors != n.mirrors),
        (Field::Path, o.path != n.path),
        (Field::Aliases, set(&o.aliases) != set(&n.aliases)),
    ] {
        if differs {
            fields.push(field);
        }
    }
    let kind = if fields.contains(&Field::Sha256) {
        ChangeKind::ContentChanged
    } else if fields.contains(&Field::Name) {
        ChangeKind::Renamed
    } else if fields.contains(&Field::Url) || fields.contains(&Field::Mirrors) {
        ChangeKind::SourceChanged
    } else if !fields.is_empty() {
        ChangeKind::MetadataChanged
    } else {
        return None;
    };
    Some(Change {
        kind,
        name: n.name.clone(),
        old_name: (o.name != n.name).then(|| o.name.clone()),
        fields,
        old: Some(EntryState::new(o)),
        new: Some(EntryState::new(n)),
        size_delta: match (o.size, n.size) {
            (Some(a), Some(b)) => Some(saturating_i64(b) - saturating_i64(a)),
            _ => None,
        },
    })
}

/// Host (and port, when one is written) of a source; `None` for `file://`.
fn host(url: &Url) -> Option<String> {
    let host = url.host_str().filter(|h| !h.is_empty())?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

/// Flags about sources: new hosts, moving revisions, plain http, replaced files.
fn entry_flags<'a>(
    old_models: impl Iterator<Item = &'a LockedModel>,
    new_by_name: &BTreeMap<&str, &LockedModel>,
    before: &HashMap<&str, &LockedModel>,
) -> Vec<Flag> {
    let old_hosts: BTreeSet<String> = old_models
        .flat_map(|m| m.sources().filter_map(host))
        .collect();
    let mut new_hosts: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut flags = Vec::new();
    for (name, n) in new_by_name {
        let o = before.get(name);
        let had = |u: &Url| o.is_some_and(|o| o.sources().any(|s| s == u));
        let pinned = o.and_then(|o| {
            o.sources()
                .filter_map(revision)
                .find(Revision::is_commit)
                .map(|r| r.name)
        });
        let sources = std::iter::once((Field::Url, &n.url))
            .chain(n.mirrors.iter().map(|m| (Field::Mirrors, m)));
        for (field, url) in sources {
            if let Some(h) = host(url).filter(|h| !old_hosts.contains(h)) {
                new_hosts.entry(h).or_default().insert(n.name.clone());
            }
            if had(url) {
                continue;
            }
            if let Some(rev) = revision(url).filter(|r| !r.is_commit()) {
                flags.push(Flag::MovingRevision {
                    name: n.name.clone(),
                    field,
                    url: url.to_string(),
                    revision: rev.name,
                    pinned_revision: pinned.clone(),
                });
            }
            if url.scheme() == "http" {
                flags.push(Flag::InsecureHttp {
                    name: n.name.clone(),
                    field,
                    url: url.to_string(),
                });
            }
        }
        if let Some(o) = o
            && o.sha256 != n.sha256
            && o.url == n.url
        {
            flags.push(Flag::ReplacedUpstream {
                name: n.name.clone(),
                url: n.url.to_string(),
                old_sha256: o.sha256,
                new_sha256: n.sha256,
            });
        }
    }
    for (host, names) in new_hosts {
        flags.push(Flag::NewHost {
            host,
            names: names.into_iter().collect(),
        });
    }
    flags
}

/// The total-size flag, when the known total changed by more than [`SIZE_FLAG_PERCENT`].
fn size_flag(old: u64, new: u64) -> Option<Flag> {
    let delta = i128::from(new) - i128::from(old);
    let flagged = if old == 0 {
        new > 0
    } else {
        delta.unsigned_abs() * 100 > u128::from(old) * u128::from(SIZE_FLAG_PERCENT)
    };
    flagged.then(|| Flag::TotalSize {
        old,
        new,
        delta: delta.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
        percent: (old > 0).then(|| (percent(delta, old) * 10.0).round() / 10.0),
    })
}

fn percent(delta: i128, of: u64) -> f64 {
    delta as f64 * 100.0 / of as f64
}

fn saturating_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn size_or_unknown(size: Option<u64>) -> String {
    size.map_or_else(|| "size unknown".to_string(), human_size)
}

/// A size change with its sign: `+1.2 GiB`, `-300.0 KiB`.
pub fn signed_size(delta: i128) -> String {
    let magnitude = u64::try_from(delta.unsigned_abs()).unwrap_or(u64::MAX);
    format!(
        "{}{}",
        if delta < 0 { "-" } else { "+" },
        human_size(magnitude)
    )
}

fn ticked(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A path with `/` between its parts on every platform.
fn slash_path(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// ANSI colors, or none.
struct Paint(bool);

impl Paint {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.0 && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn kind(&self, kind: ChangeKind, text: &str) -> String {
        let code = match kind {
            ChangeKind::Added => "32",
            ChangeKind::Removed => "31",
            ChangeKind::Renamed => "36",
            ChangeKind::ContentChanged => "1;33",
            ChangeKind::SourceChanged => "33",
            ChangeKind::MetadataChanged => "34",
        };
        self.paint(code, text)
    }
}

fn plain(s: &str) -> String {
    s.to_string()
}

/// The diff for a terminal or a log: a summary line, one line per changed entry with the
/// changed keys under it (`-` old, `+` new), the total download, and the flags.
pub fn render_text(diff: &LockDiff, color: bool) -> String {
    let p = Paint(color);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        p.paint(
            "1",
            &format!("diff {} → {}", diff.old.origin.label, diff.new.origin.label)
        )
    );
    for note in diff.notes() {
        let _ = writeln!(out, "{}: {note}", p.paint("1;36", "note"));
    }
    if !diff.has_changes() {
        let _ = writeln!(out, "no changes: both pin the same models");
        return out;
    }
    let n = diff.changes.len();
    let _ = writeln!(
        out,
        "{n} change{}: {}",
        if n == 1 { "" } else { "s" },
        diff.counts()
    );
    out.push('\n');
    let rows: Vec<[String; 4]> = diff
        .changes
        .iter()
        .map(|c| {
            [
                c.kind.label().to_string(),
                c.title(plain),
                c.hashes(),
                c.sizes(),
            ]
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    for (c, row) in diff.changes.iter().zip(&rows) {
        let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w - s.chars().count()));
        let mark = if diff.flagged(&c.name) {
            p.paint("1;33", "!")
        } else {
            " ".to_string()
        };
        let _ = writeln!(
            out,
            "{mark} {}  {}  {}  {}",
            p.kind(c.kind, &pad(&row[0], w0)),
            pad(&row[1], w1),
            pad(&row[2], w2),
            row[3]
        );
        for field in c.detail_fields() {
            let key = format!("{:<8}", field.key());
            match (&c.old, &c.new) {
                (Some(o), Some(n)) => {
                    let _ = writeln!(
                        out,
                        "      {key} {}",
                        p.paint("31", &format!("- {}", o.show(field)))
                    );
                    let _ = writeln!(
                        out,
                        "      {:<8} {}",
                        "",
                        p.paint("32", &format!("+ {}", n.show(field)))
                    );
                }
                _ => {
                    let _ = writeln!(out, "      {key} {}", c.state().show(field));
                }
            }
        }
    }
    out.push('\n');
    let _ = writeln!(out, "total download: {}", diff.total());
    let uncounted = diff.uncounted();
    if !uncounted.is_empty() {
        let _ = writeln!(out, "  size unknown, not counted: {uncounted}");
    }
    if !diff.flags.is_empty() {
        let n = diff.flags.len();
        let _ = writeln!(
            out,
            "\n{}",
            p.paint(
                "1;33",
                &format!("{n} flag{}:", if n == 1 { "" } else { "s" })
            )
        );
        for flag in &diff.flags {
            let _ = writeln!(
                out,
                "  {} {}: {}",
                p.paint("1;33", "!"),
                p.paint("1", flag.title()),
                flag.message()
            );
        }
    }
    out
}

/// `text` as a Markdown code span, whatever backticks it holds.
fn code(text: &str) -> String {
    let fence = if text.contains('`') { "``" } else { "`" };
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// `text` made safe inside a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The diff as GitHub-flavoured Markdown, for a pull-request comment or a step summary: a
/// heading with the counts, a table with one row per changed entry, the total, and the flags.
pub fn render_markdown(diff: &LockDiff) -> String {
    let mut out = String::new();
    let file = code(
        diff.new
            .origin
            .path
            .rsplit('/')
            .next()
            .filter(|_| diff.new.origin.exists)
            .unwrap_or(&diff.old.origin.path),
    );
    let flags = match diff.flags.len() {
        0 => String::new(),
        1 => ", 1 flag".to_string(),
        n => format!(", {n} flags"),
    };
    match diff.changes.len() {
        0 => {
            let _ = writeln!(out, "### {file}: no changes\n");
        }
        n => {
            let _ = writeln!(
                out,
                "### {file}: {n} change{}{flags}\n",
                if n == 1 { "" } else { "s" }
            );
        }
    }
    let _ = writeln!(
        out,
        "{} → {}{}\n",
        code(&diff.old.origin.label),
        code(&diff.new.origin.label),
        if diff.has_changes() {
            format!(": {}", diff.counts())
        } else {
            ", both pin the same models".to_string()
        }
    );
    for note in diff.notes() {
        let _ = writeln!(out, "> [!NOTE]\n> {}\n", note);
    }
    if !diff.has_changes() {
        return out;
    }
    out.push_str("| change | model | sha256 | size | details |\n");
    out.push_str("| --- | --- | --- | --- | --- |\n");
    for c in &diff.changes {
        let details: Vec<String> = c
            .detail_fields()
            .into_iter()
            .map(|f| match (&c.old, &c.new) {
                (Some(o), Some(n)) => format!(
                    "{}: {} → {}",
                    f.key(),
                    o.show_markdown(f),
                    n.show_markdown(f)
                ),
                _ => format!("{}: {}", f.key(), c.state().show_markdown(f)),
            })
            .collect();
        let hashes = c
            .hashes()
            .split(" → ")
            .map(code)
            .collect::<Vec<_>>()
            .join(" → ");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            if c.kind == ChangeKind::ContentChanged {
                format!("**{}**", c.kind.label())
            } else {
                c.kind.label().to_string()
            },
            c.title(code) + if diff.flagged(&c.name) { " ⚠️" } else { "" },
            hashes,
            c.sizes(),
            cell(&details.join("<br>"))
        );
    }
    let _ = write!(out, "\n**Total download:** {}", diff.total());
    let uncounted = diff.uncounted();
    if !uncounted.is_empty() {
        let _ = write!(out, "; size unknown, not counted: {uncounted}");
    }
    out.push('\n');
    if !diff.flags.is_empty() {
        let _ = writeln!(out, "\n#### ⚠️ Flags\n");
        for flag in &diff.flags {
            let _ = writeln!(out, "- **{}**: {}", flag.title(), flag.message());
        }
    }
    out
}

/// The diff as pretty-printed JSON (see [`LockDiff`]), with a final newline.
pub fn render_json(diff: &LockDiff) -> String {
    let mut s = serde_json::to_string_pretty(diff).expect("a diff serializes");
    s.push('\n');
    s
}

/// The lockfile in a stable, line-per-model form (sorted by name, comments and key order
/// dropped), so that `git diff` shows one changed line per changed model when this is its
/// diff driver's `textconv`.
pub fn textconv(lockfile: &Lockfile) -> String {
    let mut models: Vec<&LockedModel> = lockfile.models.iter().collect();
    models.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = String::new();
    for m in models {
        let _ = write!(out, "{}  sha256={}", m.name, m.sha256);
        match m.size {
            Some(size) => {
                let _ = write!(out, "  size={size} ({})", human_size(size));
            }
            None => out.push_str("  size=unknown"),
        }
        let _ = write!(out, "  url={}", m.url);
        if !m.mirrors.is_empty() {
            let mirrors: Vec<String> = m.mirrors.iter().map(Url::to_string).collect();
            let _ = write!(out, "  mirrors={}", mirrors.join(","));
        }
        if let Some(path) = &m.path {
            let _ = write!(out, "  path={}", slash_path(path));
        }
        if !m.aliases.is_empty() {
            let mut aliases = m.aliases.clone();
            aliases.sort();
            let _ = write!(out, "  aliases={}", aliases.join(","));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(c: char) -> String {
        format!("{}{}", c.to_string().repeat(10), "0".repeat(54))
    }

    fn lock(entries: &[&str]) -> Lockfile {
        let mut text = String::from("version = 1\n");
        for e in entries {
            text.push_str("\n[[model]]\n");
            text.push_str(e);
            text.push('\n');
        }
        Lockfile::parse(&text, Path::new("models.lock")).unwrap()
    }

    fn entry(name: &str, url: &str, h: char, size: Option<u64>) -> String {
        let mut s = format!(
            "name = \"{name}\"\nurl = \"{url}\"\nsha256 = \"{}\"\n",
            hash(h)
        );
        if let Some(size) = size {
            s.push_str(&format!("size = {size}\n"));
        }
        s
    }

    fn diff(old: &[&str], new: &[&str]) -> LockDiff {
        LockDiff::new(
            &lock(old),
            Origin::file(Path::new("old.lock"), true),
            &lock(new),
            Origin::file(Path::new("new.lock"), true),
        )
    }

    fn kinds(d: &LockDiff) -> Vec<(ChangeKind, &str)> {
        d.changes
            .iter()
            .map(|c| (c.kind, c.name.as_str()))
            .collect()
    }

    #[test]
    fn reordered_entries_and_keys_are_no_change() {
        let a = entry("a", "https://x.org/a", 'a', Some(1));
        let b = format!(
            "{}aliases = [\"p\", \"q\"]\n",
            entry("b", "https://x.org/b", 'b', None)
        );
        let b2 = format!(
            "aliases = [\"q\", \"p\"]\nsha256 = \"{}\"\nurl = \"https://x.org/b\"\nname = \"b\"\n",
            hash('b')
        );
        let d = diff(&[&a, &b], &[&b2, &a]);
        assert!(!d.has_changes(), "{:?}", d.changes);
        assert!(d.flags.is_empty(), "{:?}", d.flags);
    }

    #[test]
    fn every_kind_of_change() {
        let old = [
            entry("gone", "https://x.org/gone", 'a', Some(10)),
            entry("old-name", "https://x.org/r", 'b', Some(10)),
            entry("content", "https://x.org/c1", 'c', Some(10)),
            entry("source", "https://x.org/s", 'd', Some(10)),
            format!(
                "{}path = \"m/meta\"\n",
                entry("meta", "https://x.org/m", 'e', None)
            ),
        ];
        let new = [
            entry("new", "https://x.org/new", 'f', Some(10)),
            entry("new-name", "https://x.org/r", 'b', Some(10)),
            entry("content", "https://x.org/c2", '1', Some(15)),
            format!(
                "{}mirrors = [\"https://x.org/s2\"]\n",
                entry("source", "https://x.org/s", 'd', Some(10))
            ),
            format!(
                "{}path = \"m/meta2\"\n",
                entry("meta", "https://x.org/m", 'e', Some(10))
            ),
        ];
        let old: Vec<&str> = old.iter().map(String::as_str).collect();
        let new: Vec<&str> = new.iter().map(String::as_str).collect();
        let d = diff(&old, &new);
        assert_eq!(
            kinds(&d),
            vec![
                (ChangeKind::Added, "new"),
                (ChangeKind::Removed, "gone"),
                (ChangeKind::Renamed, "new-name"),
                (ChangeKind::ContentChanged, "content"),
                (ChangeKind::SourceChanged, "source"),
                (ChangeKind::MetadataChanged, "meta"),
            ]
        );
        let content = &d.changes[3];
        assert_eq!(content.fields, vec![Field::Sha256, Field::Size, Field::Url]);
        assert_eq!(content.size_delta, Some(5));
        assert_eq!(d.changes[2].old_name.as_deref(), Some("old-name"));
        assert_eq!(d.changes[5].fields, vec![Field::Size, Field::Path]);
        assert_eq!(d.changes[5].size_delta, None);
        assert_eq!(d.changes[1].size_delta, Some(-10));
        // Sizes the totals count: 40 known bytes before, 55 after.
        assert_eq!((d.old.size, d.new.size), (40, 55));
        assert_eq!(d.old.unknown_size, vec!["meta"]);
    }

    #[test]
    fn a_rename_prefers_the_entry_with_the_same_url() {
        let d = diff(
            &[
                &entry("x1", "https://x.org/one", 'a', None),
                &entry("x2", "https://x.org/two", 'a', None),
            ],
            &[&entry("y", "https://x.org/two", 'a', None)],
        );
        assert_eq!(
            kinds(&d),
            vec![(ChangeKind::Removed, "x1"), (ChangeKind::Renamed, "y")]
        );
        assert_eq!(d.changes[1].old_name.as_deref(), Some("x2"));
    }

    #[test]
    fn flags_new_hosts_moving_revisions_http_and_replaced_files() {
        let commit = "4f0a".repeat(10);
        let d = diff(
            &[
                &entry(
                    "hf",
                    &format!("https://huggingface.co/o/r/resolve/{commit}/m.gguf"),
                    'a',
                    Some(100),
                ),
                &entry("same-url", "https://x.org/f", 'b', Some(100)),
            ],
            &[
                &entry(
                    "hf",
                    "https://huggingface.co/o/r/resolve/main/m.gguf",
                    'a',
                    Some(100),
                ),
                &entry("same-url", "https://x.org/f", 'c', Some(100)),
                &entry("plain", "http://cdn.example:8080/p", 'd', Some(5)),
            ],
        );
        assert_eq!(
            d.flags,
            vec![
                Flag::NewHost {
                    host: "cdn.example:8080".into(),
                    names: vec!["plain".into()]
                },
                Flag::MovingRevision {
                    name: "hf".into(),
                    field: Field::Url,
                    url: "https://huggingface.co/o/r/resolve/main/m.gguf".into(),
                    revision: "main".into(),
                    pinned_revision: Some(commit.clone()),
                },
                Flag::InsecureHttp {
                    name: "plain".into(),
                    field: Field::Url,
                    url: "http://cdn.example:8080/p".into()
                },
                Flag::ReplacedUpstream {
                    name: "same-url".into(),
                    url: "https://x.org/f".into(),
                    old_sha256: hash('b').parse().unwrap(),
                    new_sha256: hash('c').parse().unwrap(),
                },
            ],
            "5 bytes on 200 is 2.5 %: no size flag"
        );
    }

    #[test]
    fn the_size_flag_needs_more_than_ten_percent() {
        assert_eq!(size_flag(100, 110), None);
        assert_eq!(size_flag(100, 90), None);
        assert_eq!(
            size_flag(100, 111),
            Some(Flag::TotalSize {
                old: 100,
                new: 111,
                delta: 11,
                percent: Some(11.0)
            })
        );
        assert!(matches!(
            size_flag(3, 2),
            Some(Flag::TotalSize { delta: -1, .. })
        ));
        assert!(matches!(
            size_flag(0, 1),
            Some(Flag::TotalSize { percent: None, .. })
        ));
        assert_eq!(size_flag(0, 0), None);
    }

    #[test]
    fn revisions_of_known_forges() {
        let rev =
            |u: &str| revision(&Url::parse(u).unwrap()).map(|r| (r.name.clone(), r.is_commit()));
        let commit = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            rev("https://huggingface.co/datasets/o/r/resolve/main/x.bin"),
            Some(("main".into(), false))
        );
        assert_eq!(
            rev(&format!("https://hf.co/o/r/resolve/{commit}/x.bin")),
            Some((commit.into(), true))
        );
        assert_eq!(
            rev("https://raw.githubusercontent.com/o/r/v1.0/m.onnx"),
            Some(("v1.0".into(), false))
        );
        assert_eq!(
            rev(&format!("https://github.com/o/r/raw/{commit}/m.onnx")),
            Some((commit.into(), true))
        );
        assert_eq!(
            rev("https://gitlab.com/g/sub/r/-/raw/dev/m.onnx"),
            Some(("dev".into(), false))
        );
        assert_eq!(
            rev("https://github.com/o/r/releases/download/v1/m.onnx"),
            None
        );
        assert_eq!(rev("https://example.org/o/r/resolve/main/m"), None);
    }

    #[test]
    fn signed_sizes() {
        assert_eq!(signed_size(1_288_490_189), "+1.2 GiB");
        assert_eq!(signed_size(-307_200), "-300.0 KiB");
        assert_eq!(signed_size(0), "+0 B");
    }

    #[test]
    fn textconv_is_sorted_and_one_line_per_model() {
        let text = textconv(&lock(&[
            &format!(
                "{}aliases = [\"z\", \"y\"]\nmirrors = [\"https://m.org/b\"]\npath = \"w/b\"\n",
                entry("b", "https://x.org/b", 'b', Some(2048))
            ),
            &entry("a", "https://x.org/a", 'a', None),
        ]));
        assert_eq!(
            text,
            format!(
                "a  sha256={}  size=unknown  url=https://x.org/a\nb  sha256={}  size=2048 (2.0 KiB)  url=https://x.org/b  mirrors=https://m.org/b  path=w/b  aliases=y,z\n",
                hash('a'),
                hash('b')
            )
        );
    }

    #[test]
    fn markdown_code_spans_survive_backticks_and_pipes() {
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`a"), "`` `a ``");
        assert_eq!(cell("`a|b`"), "`a\\|b`");
    }
}
