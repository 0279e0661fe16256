//! The error classes every command maps to an exit code.

/// What kind of failure an error is; the CLI maps each to its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ErrorKind {
    /// Wrong content: hash or size mismatch, a corrupt or missing blob (exit 1).
    Integrity,
    /// Bad input: the lockfile, arguments, a path conflict (exit 2).
    Input,
    /// The transfer or the disk failed: network, HTTP status, I/O (exit 3).
    Transfer,
}
