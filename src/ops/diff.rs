//! `cargo models diff`: reads the two versions of `models.lock` to compare, each from a file or
//! from a git revision (`git show REV:<path>`), and compares them with [`crate::diff`].

use std::path::{Component, Path, PathBuf};
use std::process::{Command, Output};

use crate::Error;
use crate::diff::{LockDiff, Origin};
use crate::error::ErrorKind;
use crate::lockfile::{Lockfile, LockfileError};

/// What to compare.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// A lockfile's path or a git revision [default: `HEAD`].
    pub old: Option<String>,
    /// A lockfile's path or a git revision [default: the working-tree lockfile].
    pub new: Option<String>,
    /// The working-tree lockfile: the new side by default, and the path read at revisions.
    pub lockfile: PathBuf,
    /// Where relative paths start, and how labels are made relative.
    pub cwd: PathBuf,
}

/// Why the two sides could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error(
        "`{arg}` is neither a file nor a revision of the git repository at `{}`",
        root.display()
    )]
    BadRevision { arg: String, root: PathBuf },
    #[error(
        "`{arg}` is not a file, and `{}` is not inside a git repository; name a lockfile file, or run inside a repository to compare revisions",
        dir.display()
    )]
    NotARepository { arg: String, dir: PathBuf },
    #[error(
        "`{}` is outside the git repository at `{}`, so it cannot be read at revision `{rev}`; pass --lockfile PATH",
        path.display(),
        root.display()
    )]
    OutsideRepository {
        rev: String,
        path: PathBuf,
        root: PathBuf,
    },
    #[error("could not run `git`: {source}; comparing revisions needs git on PATH")]
    GitMissing { source: std::io::Error },
    #[error("`git {args}` failed in `{}`: {stderr}", dir.display())]
    Git {
        args: String,
        dir: PathBuf,
        stderr: String,
    },
    #[error(
        "there is no lockfile at `{old}` nor at `{new}`; run inside a project with a models.lock, or pass --lockfile PATH"
    )]
    NoLockfile { old: String, new: String },
    /// Both sides are invalid (one invalid side is reported as [`Error::Lockfile`]).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Lockfiles(Vec<LockfileError>),
}

impl DiffError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            DiffError::GitMissing { .. } | DiffError::Git { .. } => ErrorKind::Transfer,
            DiffError::Lockfiles(errors)
                if errors
                    .iter()
                    .all(|e| matches!(e, LockfileError::Read { .. })) =>
            {
                ErrorKind::Transfer
            }
            _ => ErrorKind::Input,
        }
    }
}

/// Compares the two sides `options` name. Invalid lockfiles are errors naming their problems
/// (a lockfile read at a revision is named `REV:path`); a lockfile missing at a revision or on
/// disk counts as empty, and the diff says so.
pub fn diff(options: &DiffOptions) -> Result<LockDiff, Error> {
    let old = read_side(options, options.old.as_deref().or(Some("HEAD")))?;
    let new = read_side(options, options.new.as_deref())?;
    let (old_origin, new_origin) = (old.0, new.0);
    if !old_origin.exists && !new_origin.exists {
        return Err(DiffError::NoLockfile {
            old: old_origin.label,
            new: new_origin.label,
        }
        .into());
    }
    let (old, new) = match (old.1, new.1) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => return Err(e.into()),
        (Err(a), Err(b)) => return Err(DiffError::Lockfiles(vec![a, b]).into()),
    };
    Ok(LockDiff::new(&old, old_origin, &new, new_origin))
}

/// The lockfile at `path` in [`crate::diff::textconv`]'s form. An invalid one is shown as its
/// problems, as `#` lines, followed by its text, so that `git diff` still shows something.
pub fn textconv(path: &Path) -> Result<String, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| LockfileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(match Lockfile::parse(&text, path) {
        Ok(lockfile) => crate::diff::textconv(&lockfile),
        Err(LockfileError::Invalid { problems, .. }) => {
            let mut out: String = problems
                .iter()
                .map(|p| format!("# not a valid lockfile: {p}\n"))
                .collect();
            out.push_str(&text);
            out
        }
        Err(e) => return Err(e.into()),
    })
}

type Read = (Origin, Result<Lockfile, LockfileError>);

/// One side: `arg` is a file if one exists there, else a git revision; `None` is the
/// working-tree lockfile.
fn read_side(options: &DiffOptions, arg: Option<&str>) -> Result<Read, DiffError> {
    let Some(arg) = arg else {
        let path = options.cwd.join(&options.lockfile);
        let label = relative_to(&path, &options.cwd);
        return Ok(read_file(&path, &label));
    };
    let path = options.cwd.join(arg);
    if path.exists() {
        return Ok(read_file(&path, Path::new(arg)));
    }
    read_revision(options, arg)
}

fn read_file(path: &Path, label: &Path) -> Read {
    if !path.exists() {
        return (Origin::file(label, false), Ok(empty(path)));
    }
    (Origin::file(label, true), Lockfile::load(path))
}

fn empty(path: &Path) -> Lockfile {
    Lockfile {
        path: path.to_path_buf(),
        models: Vec::new(),
    }
}

/// The working-tree lockfile as it is at revision `rev` of its repository.
fn read_revision(options: &DiffOptions, rev: &str) -> Result<Read, DiffError> {
    let lockfile = std::path::absolute(options.cwd.join(&options.lockfile))
        .unwrap_or_else(|_| options.cwd.join(&options.lockfile));
    let start = lockfile
        .ancestors()
        .skip(1)
        .find(|d| d.is_dir())
        .unwrap_or(&options.cwd)
        .to_path_buf();
    let top = git(&start, &["rev-parse", "--show-toplevel"])?;
    if !top.status.success() {
        let stderr = String::from_utf8_lossy(&top.stderr).trim().to_string();
        if !stderr.contains("not a git repository") {
            // Not the user's doing: a repository git refuses (ownership), a broken one.
            return Err(DiffError::Git {
                args: "rev-parse --show-toplevel".to_string(),
                dir: start,
                stderr,
            });
        }
        return Err(DiffError::NotARepository {
            arg: rev.to_string(),
            dir: start,
        });
    }
    let root = PathBuf::from(String::from_utf8_lossy(&top.stdout).trim_end_matches(['\n', '\r']));
    let in_repo = repo_path(&lockfile, &root).ok_or_else(|| DiffError::OutsideRepository {
        rev: rev.to_string(),
        path: lockfile.clone(),
        root: root.clone(),
    })?;
    let label = format!("{rev}:{in_repo}");
    let origin = |exists| Origin {
        label: label.clone(),
        revision: Some(rev.to_string()),
        path: in_repo.clone(),
        exists,
    };
    let commit = git(
        &root,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{rev}^{{commit}}"),
        ],
    )?;
    if !commit.status.success() {
        if rev == "HEAD" && unborn(&root)? {
            // A repository without commits yet: nothing was there before.
            return Ok((origin(false), Ok(empty(Path::new(&label)))));
        }
        return Err(DiffError::BadRevision {
            arg: rev.to_string(),
            root,
        });
    }
    let object = format!(
        "{}:{in_repo}",
        String::from_utf8_lossy(&commit.stdout).trim()
    );
    if !git(&root, &["cat-file", "-e", &object])?.status.success() {
        return Ok((origin(false), Ok(empty(Path::new(&label)))));
    }
    let args = ["show", "--no-textconv", &object];
    let shown = git(&root, &args)?;
    if !shown.status.success() {
        return Err(DiffError::Git {
            args: args.join(" "),
            dir: root,
            stderr: String::from_utf8_lossy(&shown.stderr).trim().to_string(),
        });
    }
    let text = String::from_utf8_lossy(&shown.stdout);
    Ok((origin(true), Lockfile::parse(&text, Path::new(&label))))
}

/// Whether `HEAD` names a branch that has no commit yet.
fn unborn(root: &Path) -> Result<bool, DiffError> {
    Ok(git(root, &["symbolic-ref", "--quiet", "HEAD"])?
        .status
        .success())
}

fn git(dir: &Path, args: &[&str]) -> Result<Output, DiffError> {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        // Untranslated messages: "not a git repository" is looked for.
        .env("LC_ALL", "C")
        .output()
        .map_err(|source| DiffError::GitMissing { source })
}

/// `path` relative to the repository `root`, with `/` separators, as git names it; `None` when
/// it is outside. Symbolic links are resolved in the folder part, as git resolves the root.
fn repo_path(path: &Path, root: &Path) -> Option<String> {
    let dir = path.parent()?;
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let relative = dir.join(path.file_name()?);
    let relative = relative.strip_prefix(&root).ok()?;
    let parts: Vec<String> = relative
        .components()
        .map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    Some(parts.join("/"))
}

/// `path` relative to `base` (both absolute), with `..` where needed; `path` itself when they
/// share no prefix.
fn relative_to(path: &Path, base: &Path) -> PathBuf {
    if path.is_relative() {
        return path.to_path_buf();
    }
    let path: Vec<Component> = path.components().collect();
    let base: Vec<Component> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    if common <= 1 {
        return path.iter().collect();
    }
    let mut out = PathBuf::new();
    for _ in common..base.len() {
        out.push("..");
    }
    out.extend(&path[common..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_relative_to_the_current_folder() {
        let rel = |p: &str, b: &str| relative_to(Path::new(p), Path::new(b));
        assert_eq!(rel("/r/models.lock", "/r"), Path::new("models.lock"));
        assert_eq!(
            rel("/r/models.lock", "/r/a/b"),
            Path::new("../../models.lock")
        );
        assert_eq!(
            rel("/r/x/models.lock", "/r/y"),
            Path::new("../x/models.lock")
        );
        assert_eq!(rel("/r/models.lock", "/s"), Path::new("/r/models.lock"));
        assert_eq!(rel("models.lock", "/s"), Path::new("models.lock"));
    }

    #[test]
    fn repository_paths_use_slashes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        assert_eq!(
            repo_path(&root.join("a/b/models.lock"), root).as_deref(),
            Some("a/b/models.lock")
        );
        assert_eq!(repo_path(Path::new("/elsewhere/models.lock"), root), None);
    }
}
