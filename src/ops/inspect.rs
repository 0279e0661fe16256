//! `cargo models inspect`: what a checkpoint is, from its header, and the hashes it is known by.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::ErrorKind;
use crate::formats::{self, Fingerprint, Format, Header, gguf, thousands};
use crate::hash::{Sha256Digest, hash_file, hash_reader};
use crate::report::human_size;

/// Where the Stable Diffusion web UI's legacy model hash starts reading: 1 MiB.
pub const LEGACY_HASH_OFFSET: u64 = 0x10_0000;
/// How many bytes the legacy model hash reads: 64 KiB.
pub const LEGACY_HASH_LEN: u64 = 0x1_0000;

/// A file that could not be inspected.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("could not read `{}`: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
}

impl InspectError {
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::Transfer
    }
}

/// Tensors and parameters of one dtype.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DtypeShare {
    pub tensors: usize,
    pub parameters: u64,
}

/// The header summary `inspect` prints.
#[derive(Debug, Clone, Serialize)]
pub struct HeaderSummary {
    pub format: Format,
    /// The GGUF version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    pub header_size: u64,
    /// Header plus the tensor data it declares.
    pub expected_size: u64,
    /// The file holds exactly what the header declares (for GGUF, up to the last padding).
    pub complete: bool,
    pub tensor_count: usize,
    pub parameter_count: u64,
    pub dtypes: BTreeMap<String, DtypeShare>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// GGUF `general.file_type`, with llama.cpp's name for it when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_type: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_type_name: Option<&'static str>,
    pub fingerprint: Fingerprint,
    pub metadata: BTreeMap<String, serde_json::Value>,
}

impl HeaderSummary {
    fn new(h: &Header, size: u64) -> HeaderSummary {
        HeaderSummary {
            complete: h.size_matches(size),
            format: h.format,
            version: h.version,
            header_size: h.header_size,
            expected_size: h.expected_file_size(),
            tensor_count: h.tensors.len(),
            parameter_count: h.parameter_count(),
            dtypes: h
                .dtypes()
                .into_iter()
                .map(|(d, (tensors, parameters))| {
                    (
                        d.to_string(),
                        DtypeShare {
                            tensors,
                            parameters,
                        },
                    )
                })
                .collect(),
            architecture: h.architecture.clone(),
            name: h.name.clone(),
            file_type: h.file_type,
            file_type_name: h.file_type.and_then(gguf::file_type_name),
            fingerprint: h.fingerprint(),
            metadata: h.metadata.clone(),
        }
    }
}

/// Everything `inspect` learns about one file.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    pub file: PathBuf,
    /// The `models.lock` entry the file was named by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub size: u64,
    pub sha256: Sha256Digest,
    /// The first 10 hex digits of the SHA-256, as Civitai and Stable Diffusion tools show.
    pub autov2: String,
    /// The Stable Diffusion web UI's legacy model hash; see [`legacy_model_hash`].
    pub legacy_model_hash: String,
    /// The header, when the file is safetensors or GGUF and it could be read.
    pub header: Option<HeaderSummary>,
    /// Why the header of a safetensors or GGUF file could not be read.
    pub header_error: Option<String>,
}

impl Inspection {
    /// The header declares more (or less) data than the file holds.
    pub fn size_mismatch(&self) -> bool {
        self.header.as_ref().is_some_and(|h| !h.complete)
    }

    /// Whether the file is damaged: an unreadable header or a size its header does not declare.
    pub fn is_damaged(&self) -> bool {
        self.header_error.is_some() || self.size_mismatch()
    }
}

/// Reads the header of `path` and hashes it. `model` is the entry it was named by, if any.
pub fn inspect(path: &Path, model: Option<&str>) -> Result<Inspection, InspectError> {
    let read_err = |source| InspectError::Read {
        path: path.to_path_buf(),
        source,
    };
    let (sha256, size) = hash_file(path).map_err(read_err)?;
    let legacy_model_hash = legacy_model_hash(path).map_err(read_err)?;
    let (header, header_error) = match formats::read_header(path) {
        Ok(h) => (h.as_ref().map(|h| HeaderSummary::new(h, size)), None),
        Err(formats::FormatError::Io { source, .. }) => return Err(read_err(source)),
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(Inspection {
        file: path.to_path_buf(),
        model: model.map(str::to_string),
        size,
        autov2: sha256.short(),
        sha256,
        legacy_model_hash,
        header,
        header_error,
    })
}

/// The legacy Stable Diffusion web UI "model hash": the first 8 hex digits of the SHA-256 of
/// the 64 KiB at offset 1 MiB (its `modules/sd_models.py` `model_hash`). Of a file shorter
/// than that it hashes what is there, as the web UI does: for a file of at most 1 MiB, the
/// SHA-256 of nothing (`e3b0c442`).
pub fn legacy_model_hash(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(LEGACY_HASH_OFFSET))?;
    let (digest, _) = hash_reader(file.take(LEGACY_HASH_LEN))?;
    Ok(digest.to_hex()[..8].to_string())
}

/// The human text of an inspection. `shown` is how to print the file's path.
pub fn render(i: &Inspection, shown: &Path) -> String {
    let mut out = String::new();
    let mut row = |k: &str, v: &str| {
        let _ = writeln!(out, "{}", format!("{k:<14}{v}").trim_end());
    };
    row("file", &shown.display().to_string());
    if let Some(m) = &i.model {
        row("model", m);
    }
    row(
        "size",
        &format!("{} ({} bytes)", human_size(i.size), thousands(i.size)),
    );
    row("sha256", &i.sha256.to_hex());
    row("AutoV2", &i.autov2);
    row("legacy hash", &i.legacy_model_hash);
    match (&i.header, &i.header_error) {
        (Some(h), _) => {
            let format = match h.version {
                Some(v) => format!("GGUF v{v}"),
                None => h.format.to_string(),
            };
            row("format", &format);
            if i.size_mismatch() {
                let what = if h.expected_size > i.size {
                    "truncated"
                } else {
                    "longer than its header says"
                };
                row(
                    "problem",
                    &format!(
                        "{what}: the header declares {} data bytes, the file has {}",
                        thousands(h.expected_size - h.header_size),
                        thousands(i.size.saturating_sub(h.header_size))
                    ),
                );
            }
            row("header", &format!("{} bytes", thousands(h.header_size)));
            if let Some(a) = &h.architecture {
                row("architecture", a);
            }
            if let Some(n) = &h.name {
                row("name", n);
            }
            if let Some(t) = h.file_type {
                let name = h.file_type_name.unwrap_or("unknown");
                row("file type", &format!("{name} ({t})"));
            }
            row("tensors", &thousands(h.tensor_count as u64));
            row("parameters", &thousands(h.parameter_count));
            let mix: Vec<String> = h
                .dtypes
                .iter()
                .map(|(d, s)| {
                    let plural = if s.tensors == 1 { "" } else { "s" };
                    format!(
                        "{d} ({} tensor{plural}, {} parameters)",
                        s.tensors,
                        thousands(s.parameters)
                    )
                })
                .collect();
            row("dtypes", &mix.join(", "));
            row("fingerprint", &h.fingerprint.to_string());
            if !h.metadata.is_empty() {
                row("metadata", "");
                for (k, v) in &h.metadata {
                    let v = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    let _ = writeln!(out, "  {k} = {v}");
                }
            }
        }
        (None, Some(e)) => row("problem", e),
        (None, None) => row("format", "unknown (not safetensors or GGUF)"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_hash_of_a_short_file_is_that_of_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("small");
        std::fs::write(&p, b"hello").unwrap();
        assert_eq!(legacy_model_hash(&p).unwrap(), "e3b0c442");
        // 1 MiB of zeros, then 64 KiB of ones, then more that is not read.
        let mut data = vec![0u8; 0x10_0000];
        data.extend(vec![1u8; 0x1_0000]);
        data.extend(vec![2u8; 100]);
        std::fs::write(&p, &data).unwrap();
        let (want, _) = hash_reader(&vec![1u8; 0x1_0000][..]).unwrap();
        assert_eq!(legacy_model_hash(&p).unwrap(), want.to_hex()[..8]);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
