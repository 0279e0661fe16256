//! Editing `models.lock` in place: comments, blank lines and key order survive (toml_edit);
//! entries stay sorted by name with each key on its own line, so a change to one model is a
//! small, local diff. Every edit is validated before it is written, atomically.

use std::path::{Path, PathBuf};

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, value};

use crate::formats::Fingerprint;
use crate::fs::write_atomic;
use crate::hash::Sha256Digest;
use crate::lockfile::{Lockfile, LockfileError, VERSION};

/// What a new lockfile starts with.
const NEW_LOCKFILE: &str =
    "# Model files pinned by SHA-256; fetch them with `cargo models fetch`.\n";

/// An entry to add.
#[derive(Debug, Clone)]
pub struct NewModel {
    pub name: String,
    pub url: String,
    pub sha256: Sha256Digest,
    pub size: u64,
    /// The structural fingerprint, for safetensors and GGUF files.
    pub fingerprint: Option<Fingerprint>,
    pub mirrors: Vec<String>,
    pub aliases: Vec<String>,
    pub path: Option<String>,
}

/// A lockfile being edited.
#[derive(Debug)]
pub struct LockfileEdit {
    path: PathBuf,
    original: String,
    doc: DocumentMut,
    /// Entries removed on purpose; every other entry of the original must survive the edit.
    removed: Vec<String>,
}

/// Whether a command may change `models.lock`, as cargo's `--locked` and `--frozen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LockMode {
    /// Changes are written.
    #[default]
    Write,
    /// `--locked`: a needed change is an error.
    Locked,
    /// `--frozen`: `--locked`, and the network is off.
    Frozen,
}

impl LockMode {
    /// The flag that forbids changes, if any.
    pub fn flag(self) -> Option<&'static str> {
        match self {
            LockMode::Write => None,
            LockMode::Locked => Some("--locked"),
            LockMode::Frozen => Some("--frozen"),
        }
    }

    /// Fails with [`EditError::Locked`] when changes are forbidden.
    pub fn allow(self, path: &Path, change: impl FnOnce() -> String) -> Result<(), EditError> {
        match self.flag() {
            None => Ok(()),
            Some(flag) => Err(EditError::Locked {
                path: path.to_path_buf(),
                change: change(),
                flag,
            }),
        }
    }
}

/// An edit that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("could not read `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not write `{}`: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{}` is not valid TOML: {message}", path.display())]
    Syntax { path: PathBuf, message: String },
    /// The edited text would not be a valid lockfile (nothing was written).
    #[error(transparent)]
    Invalid(#[from] LockfileError),
    #[error(
        "`{}` needs to change ({change}), but {flag} was passed; run the command without {flag} to update it",
        path.display()
    )]
    Locked {
        path: PathBuf,
        change: String,
        flag: &'static str,
    },
}

impl LockfileEdit {
    /// Opens `path` for editing; a missing file starts as an empty lockfile.
    pub fn open(path: &Path) -> Result<LockfileEdit, EditError> {
        let original = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(EditError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let text = if original.trim().is_empty() {
            format!("{NEW_LOCKFILE}version = {VERSION}\n")
        } else {
            original.clone()
        };
        let mut doc = text.parse::<DocumentMut>().map_err(|e| EditError::Syntax {
            path: path.to_path_buf(),
            message: e.to_string().trim().to_string(),
        })?;
        normalize_models(&mut doc).map_err(|message| EditError::Syntax {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(LockfileEdit {
            path: path.to_path_buf(),
            original,
            doc,
            removed: Vec::new(),
        })
    }

    fn models(&mut self) -> &mut ArrayOfTables {
        if !matches!(self.doc.get("model"), Some(Item::ArrayOfTables(_))) {
            self.doc
                .insert("model", Item::ArrayOfTables(ArrayOfTables::new()));
        }
        self.doc["model"]
            .as_array_of_tables_mut()
            .expect("just made an array of tables")
    }

    fn find(&mut self, name: &str) -> Option<&mut Table> {
        self.models()
            .iter_mut()
            .find(|t| t.get("name").and_then(Item::as_str) == Some(name))
    }

    /// Adds an entry where it sorts by name.
    pub fn add(&mut self, m: &NewModel) {
        let mut t = Table::new();
        t.insert("name", value(&m.name));
        t.insert("url", value(&m.url));
        t.insert("sha256", value(m.sha256.to_hex()));
        t.insert("size", value(i64::try_from(m.size).unwrap_or(i64::MAX)));
        if let Some(f) = &m.fingerprint {
            t.insert("fingerprint", value(f.to_string()));
        }
        if !m.mirrors.is_empty() {
            t.insert("mirrors", value(m.mirrors.iter().collect::<Array>()));
        }
        if !m.aliases.is_empty() {
            t.insert("aliases", value(m.aliases.iter().collect::<Array>()));
        }
        if let Some(p) = &m.path {
            t.insert("path", value(p));
        }
        t.decor_mut().set_prefix("\n");
        let models = self.models();
        let at = models
            .iter()
            .position(|e| {
                e.get("name")
                    .and_then(Item::as_str)
                    .is_some_and(|n| n > m.name.as_str())
            })
            .unwrap_or(models.len());
        models.insert(at, t);
        self.renumber();
    }

    /// Removes the entry `name`; false when there is none.
    pub fn remove(&mut self, name: &str) -> bool {
        let models = self.models();
        let Some(i) = models
            .iter()
            .position(|t| t.get("name").and_then(Item::as_str) == Some(name))
        else {
            return false;
        };
        models.remove(i);
        self.removed.push(name.to_string());
        true
    }

    /// Sets the pinned hash and size of `name`, keeping the rest of the entry as it is.
    pub fn set_pin(&mut self, name: &str, sha256: &Sha256Digest, size: u64) -> bool {
        let Some(t) = self.find(name) else {
            return false;
        };
        set_keeping_decor(t, "sha256", value(sha256.to_hex()));
        set_keeping_decor(t, "size", value(i64::try_from(size).unwrap_or(i64::MAX)));
        true
    }

    /// Sets the `fingerprint` of `name`, or removes it (`None`), so it never describes an old
    /// pin.
    pub fn set_fingerprint(&mut self, name: &str, fingerprint: Option<&Fingerprint>) -> bool {
        let Some(t) = self.find(name) else {
            return false;
        };
        match fingerprint {
            Some(f) => set_keeping_decor(t, "fingerprint", value(f.to_string())),
            None => {
                t.remove("fingerprint");
            }
        }
        true
    }

    /// Tables are rendered in the order of their positions: keep that the array's order.
    fn renumber(&mut self) {
        for (i, t) in self.models().iter_mut().enumerate() {
            t.set_position(Some(i as isize + 1));
        }
    }

    /// The edited text.
    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    /// True when the text differs from the file on disk.
    pub fn is_changed(&self) -> bool {
        self.text() != self.original
    }

    /// Validates the edited text as a lockfile and writes it atomically (when it changed).
    pub fn save(&self) -> Result<Lockfile, EditError> {
        let text = self.text();
        let lockfile = Lockfile::parse(&text, &self.path)?;
        // Never lose an entry that was not removed on purpose.
        if let Ok(before) = Lockfile::parse(&self.original, &self.path) {
            let lost: Vec<&str> = before
                .models
                .iter()
                .map(|m| m.name.as_str())
                .filter(|n| !self.removed.iter().any(|r| r == n) && lockfile.get(n).is_none())
                .collect();
            if !lost.is_empty() {
                return Err(EditError::Syntax {
                    path: self.path.clone(),
                    message: format!(
                        "the edit would lose the entries {}; nothing was written (please report this)",
                        lost.join(", ")
                    ),
                });
            }
        }
        if self.is_changed() {
            write_atomic(&self.path, text.as_bytes()).map_err(|source| EditError::Write {
                path: self.path.clone(),
                source,
            })?;
        }
        Ok(lockfile)
    }
}

/// Makes `model` an array of `[[model]]` tables: an inline array of inline tables (which the
/// parser accepts too) is converted, entry by entry; anything else cannot be edited safely.
fn normalize_models(doc: &mut DocumentMut) -> Result<(), String> {
    let Some(item) = doc.get_mut("model") else {
        return Ok(());
    };
    if item.is_array_of_tables() {
        return Ok(());
    }
    let Some(array) = item.as_array() else {
        return Err("`model` must be `[[model]]` sections to be edited".into());
    };
    let mut tables = ArrayOfTables::new();
    for value in array.iter() {
        let Some(inline) = value.as_inline_table() else {
            return Err("every `model` must be a table to be edited".into());
        };
        let mut t = inline.clone().into_table();
        t.decor_mut().set_prefix("\n");
        tables.push(t);
    }
    *item = Item::ArrayOfTables(tables);
    Ok(())
}

/// Replaces a value, keeping the comment that followed the old one on its line.
fn set_keeping_decor(t: &mut Table, key: &str, mut new: Item) {
    if let (Some(old), Some(v)) = (t.get(key).and_then(Item::as_value), new.as_value_mut()) {
        *v.decor_mut() = old.decor().clone();
    }
    t.insert(key, new);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(c: char) -> Sha256Digest {
        c.to_string().repeat(64).parse().unwrap()
    }

    fn model(name: &str, c: char) -> NewModel {
        NewModel {
            name: name.into(),
            url: format!("https://example.org/{name}.gguf"),
            sha256: digest(c),
            size: 42,
            fingerprint: None,
            mirrors: vec![],
            aliases: vec![],
            path: None,
        }
    }

    #[test]
    fn edits_keep_comments_and_sort_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("models.lock");
        let text = format!(
            "# Our models.\nversion = 1\n\n# the small one\n[[model]]\nname = \"b\"\nurl = \"https://x/b\"  # mirror soon\nsha256 = \"{}\"  # pinned 2026-01\nsize = 1\n",
            digest('b')
        );
        std::fs::write(&path, &text).unwrap();
        let mut edit = LockfileEdit::open(&path).unwrap();
        edit.add(&model("c", 'c'));
        edit.add(&model("a", 'a'));
        assert!(edit.set_pin("b", &digest('d'), 7));
        edit.save().unwrap();
        let after = std::fs::read_to_string(&path).unwrap();
        let names: Vec<&str> = after
            .lines()
            .filter_map(|l| l.strip_prefix("name = "))
            .collect();
        assert_eq!(names, ["\"a\"", "\"b\"", "\"c\""]);
        assert!(
            after.contains("# the small one\n[[model]]\nname = \"b\""),
            "{after}"
        );
        assert!(
            after.contains(&format!("sha256 = \"{}\"  # pinned 2026-01", digest('d'))),
            "{after}"
        );
        assert!(after.contains("url = \"https://x/b\"  # mirror soon"));

        let mut edit = LockfileEdit::open(&path).unwrap();
        assert!(edit.remove("b"));
        assert!(!edit.remove("b"));
        edit.save().unwrap();
        let after = std::fs::read_to_string(&path).unwrap();
        assert!(!after.contains("name = \"b\""));
        assert!(after.starts_with("# Our models.\nversion = 1\n"));
    }

    #[test]
    fn inline_model_arrays_are_converted_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("models.lock");
        let text = format!(
            "version = 1\nmodel = [ {{ name = \"b\", url = \"https://x/b\", sha256 = \"{}\", size = 1 }} ]\n",
            digest('b')
        );
        std::fs::write(&path, text).unwrap();
        let mut edit = LockfileEdit::open(&path).unwrap();
        edit.add(&model("a", 'a'));
        let lock = edit.save().unwrap();
        let names: Vec<&str> = lock.models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn a_missing_lockfile_starts_empty_and_invalid_edits_are_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("models.lock");
        let mut edit = LockfileEdit::open(&path).unwrap();
        edit.add(&model("a", 'a'));
        edit.save().unwrap();
        assert_eq!(Lockfile::load(&path).unwrap().models.len(), 1);
        let mut edit = LockfileEdit::open(&path).unwrap();
        edit.add(&model("a", 'a'));
        assert!(matches!(edit.save(), Err(EditError::Invalid(_))));
        assert_eq!(Lockfile::load(&path).unwrap().models.len(), 1);
    }
}
