//! Checkpoint formats: telling safetensors and GGUF files apart by their first bytes, a common
//! [`Header`] summary read from the header alone, and the structural [`Fingerprint`].

pub mod gguf;
pub mod safetensors;

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Serialize;

use crate::hash::{Hasher, Sha256Digest};

/// A checkpoint format whose header cargo-models reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Safetensors,
    Gguf,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Safetensors => "safetensors",
            Format::Gguf => "gguf",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One tensor as its header describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tensor {
    pub name: String,
    /// The safetensors dtype (`F16`, `BF16`, …) or the GGUF `ggml_type` (`F32`, `Q8_0`, …).
    pub dtype: String,
    pub shape: Vec<u64>,
    /// Where its data starts, relative to the start of the tensor data.
    pub offset: u64,
    /// Bytes of data.
    pub size: u64,
}

impl Tensor {
    /// The number of elements (parameters).
    pub fn elements(&self) -> u64 {
        self.shape.iter().product()
    }
}

/// What a checkpoint's header says, read without touching the weights.
#[derive(Debug, Clone, Serialize)]
pub struct Header {
    pub format: Format,
    /// The GGUF version; `None` for safetensors, which has none.
    pub version: Option<u32>,
    /// Bytes before the tensor data (for GGUF, including the alignment padding).
    pub header_size: u64,
    /// Bytes of tensor data the header declares.
    pub data_size: u64,
    /// GGUF writers may pad the last tensor's data to this many bytes; 1 for safetensors.
    #[serde(skip)]
    pub alignment: u64,
    #[serde(skip)]
    pub tensors: Vec<Tensor>,
    /// The safetensors `__metadata__` map, or the GGUF key-values (long arrays summarised).
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// GGUF `general.architecture`.
    pub architecture: Option<String>,
    /// GGUF `general.name`.
    pub name: Option<String>,
    /// GGUF `general.file_type` (llama.cpp's `llama_ftype`).
    pub file_type: Option<u64>,
    /// SHA-256 over the GGUF `tokenizer.ggml.tokens` strings, each length-prefixed.
    #[serde(skip)]
    pub vocab_sha256: Option<Sha256Digest>,
}

impl Header {
    /// The file size the header implies: header plus declared data.
    pub fn expected_file_size(&self) -> u64 {
        self.header_size.saturating_add(self.data_size)
    }

    /// Whether a file of `size` bytes holds exactly what the header declares (for GGUF, up to
    /// the padding of the last tensor).
    pub fn size_matches(&self, size: u64) -> bool {
        let expected = self.expected_file_size();
        let padded = expected
            .div_ceil(self.alignment.max(1))
            .saturating_mul(self.alignment.max(1));
        (expected..=padded).contains(&size)
    }

    /// A few words on what the file is: `llama, 4 tensors, 3,104 parameters, F32 + Q8_0`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(a) = &self.architecture {
            parts.push(a.clone());
        }
        parts.push(format!(
            "{} tensor{}",
            self.tensors.len(),
            if self.tensors.len() == 1 { "" } else { "s" }
        ));
        parts.push(format!("{} parameters", thousands(self.parameter_count())));
        let dtypes: Vec<&str> = self.dtypes().into_keys().collect();
        if !dtypes.is_empty() {
            parts.push(dtypes.join(" + "));
        }
        parts.join(", ")
    }

    pub fn parameter_count(&self) -> u64 {
        self.tensors
            .iter()
            .fold(0u64, |a, t| a.saturating_add(t.elements()))
    }

    /// Tensor count and parameters per dtype, sorted by dtype.
    pub fn dtypes(&self) -> BTreeMap<&str, (usize, u64)> {
        let mut mix: BTreeMap<&str, (usize, u64)> = BTreeMap::new();
        for t in &self.tensors {
            let e = mix.entry(&t.dtype).or_default();
            e.0 += 1;
            e.1 = e.1.saturating_add(t.elements());
        }
        mix
    }

    /// The structural fingerprint: SHA-256 over a canonical, length-prefixed encoding of the
    /// format, each tensor's name, dtype and shape (sorted by name), and for GGUF the
    /// tokenizer vocabulary; never the weights. Equal fingerprints mean the same structure: a
    /// different fine-tune of one model keeps it, a re-quantization changes it.
    pub fn fingerprint(&self) -> Fingerprint {
        let mut h = Hasher::new();
        let bytes = |h: &mut Hasher, b: &[u8]| {
            h.update(&(b.len() as u64).to_le_bytes());
            h.update(b);
        };
        bytes(&mut h, b"cargo-models fingerprint v1");
        bytes(&mut h, self.format.as_str().as_bytes());
        let mut tensors: Vec<&Tensor> = self.tensors.iter().collect();
        tensors.sort_by(|a, b| a.name.cmp(&b.name));
        h.update(&(tensors.len() as u64).to_le_bytes());
        for t in tensors {
            bytes(&mut h, t.name.as_bytes());
            bytes(&mut h, t.dtype.as_bytes());
            h.update(&(t.shape.len() as u64).to_le_bytes());
            for d in &t.shape {
                h.update(&d.to_le_bytes());
            }
        }
        match &self.vocab_sha256 {
            Some(v) => bytes(&mut h, v.as_bytes()),
            None => bytes(&mut h, b""),
        }
        Fingerprint {
            format: self.format,
            digest: h.finish().0,
        }
    }
}

/// A structural fingerprint, written `<format>:<64 hex>` in `models.lock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    pub format: Format,
    pub digest: Sha256Digest,
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.format, self.digest)
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl FromStr for Fingerprint {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (format, hex) = s
            .split_once(':')
            .ok_or("must be `safetensors:<64 hex>` or `gguf:<64 hex>`")?;
        let format = match format {
            "safetensors" => Format::Safetensors,
            "gguf" => Format::Gguf,
            other => {
                return Err(format!(
                    "has unknown format `{other}`; expected `safetensors` or `gguf`"
                ));
            }
        };
        let digest = hex.parse().map_err(|e| format!("digest {e}"))?;
        Ok(Fingerprint { format, digest })
    }
}

/// Why a file's header could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("could not read `{}`: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("could not read the header: {0}")]
    Read(io::Error),
    #[error(transparent)]
    Safetensors(#[from] safetensors::SafetensorsError),
    #[error(transparent)]
    Gguf(#[from] gguf::GgufError),
}

/// `1234567` as `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One line on why a file that does not have the pinned hash differs, from its header alone:
/// truncated, the same structure with other weights, another structure, or an unreadable
/// header. `header` is what [`read_header`] gave for the file, `size` its length; `pinned_size`
/// and `pinned` what `models.lock` knows. `None` when there is nothing to say (not a
/// safetensors or GGUF file, and none was pinned).
pub fn diagnose(
    header: &Result<Option<Header>, FormatError>,
    size: u64,
    pinned_size: Option<u64>,
    pinned: Option<&Fingerprint>,
) -> Option<String> {
    let h = match header {
        Err(FormatError::Io { .. } | FormatError::Read(_)) => return None,
        Err(e) => return Some(e.to_string()),
        Ok(None) => {
            return pinned.map(|f| {
                format!(
                    "not a {} file, as the pinned one is: a different file altogether",
                    f.format
                )
            });
        }
        Ok(Some(h)) => h,
    };
    let declared = h.expected_file_size();
    if size < declared {
        return Some(format!(
            "truncated: the header declares {} data bytes, the file has {}",
            thousands(h.data_size),
            thousands(size.saturating_sub(h.header_size))
        ));
    }
    if !h.size_matches(size) {
        return Some(format!(
            "{} bytes follow the {} data bytes the header declares: the file was appended to",
            thousands(size - declared),
            thousands(h.data_size)
        ));
    }
    let what = h.describe();
    Some(match pinned {
        Some(f) if *f == h.fingerprint() => format!(
            "same structure as the pinned file ({what}), different weights: another fine-tune or a modified copy"
        ),
        Some(f) if f.format != h.format => format!(
            "a {} file ({what}), but the pinned one is {}: a different file altogether",
            h.format, f.format
        ),
        Some(_) => format!(
            "another structure than the pinned file (now {what}): a re-quantization or a different model"
        ),
        None => match pinned_size {
            Some(p) if p != size => format!(
                "an intact {} file ({what}) of another size than pinned: a different model or quantization",
                h.format
            ),
            _ => format!(
                "an intact {} file ({what}); `models.lock` has no `fingerprint` to compare its structure with",
                h.format
            ),
        },
    })
}

/// The fingerprint of the file at `path`, when it is a readable safetensors or GGUF file.
pub fn fingerprint_file(path: &Path) -> Result<Option<Fingerprint>, FormatError> {
    Ok(read_header(path)?.map(|h| h.fingerprint()))
}

/// The format the first bytes of a file show, if any: the `GGUF` magic, or a safetensors
/// length (at most [`safetensors::MAX_HEADER_LEN`]) followed by `{`.
pub fn detect(first: &[u8]) -> Option<Format> {
    if first.starts_with(gguf::MAGIC) {
        return Some(Format::Gguf);
    }
    let len = u64::from_le_bytes(*first.first_chunk::<8>()?);
    (first.get(8) == Some(&b'{') && (2..=safetensors::MAX_HEADER_LEN).contains(&len))
        .then_some(Format::Safetensors)
}

/// Reads the header of the file at `path`: `Ok(None)` when it is neither safetensors nor GGUF.
/// Only the header bytes are read.
pub fn read_header(path: &Path) -> Result<Option<Header>, FormatError> {
    let file = File::open(path).map_err(|source| FormatError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_header_from(file).map_err(|e| match e {
        FormatError::Read(source) => FormatError::Io {
            path: path.to_path_buf(),
            source,
        },
        e => e,
    })
}

/// [`read_header`] of an open file, from its start.
pub fn read_header_from(mut file: impl Read + Seek) -> Result<Option<Header>, FormatError> {
    file.seek(SeekFrom::Start(0)).map_err(FormatError::Read)?;
    let mut first = Vec::with_capacity(9);
    (&mut file)
        .take(9)
        .read_to_end(&mut first)
        .map_err(FormatError::Read)?;
    let format = detect(&first);
    file.seek(SeekFrom::Start(0)).map_err(FormatError::Read)?;
    Ok(match format {
        None => None,
        Some(Format::Safetensors) => Some(safetensors::read(file)?),
        Some(Format::Gguf) => Some(gguf::read(BufReader::new(file))?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/formats")
            .join(name)
    }

    fn header(name: &str) -> Header {
        read_header(&fixture(name)).unwrap().unwrap()
    }

    #[test]
    fn detects_by_first_bytes() {
        assert_eq!(detect(b"GGUF\x03\0\0\0"), Some(Format::Gguf));
        assert_eq!(detect(b"\x02\0\0\0\0\0\0\0{}"), Some(Format::Safetensors));
        assert_eq!(detect(b"\x02\0\0\0\0\0\0\0["), None);
        assert_eq!(detect(b"PK\x03\x04"), None);
        assert_eq!(detect(b""), None);
        assert!(read_header(Path::new(file!())).unwrap().is_none());
    }

    #[test]
    fn fingerprints_see_structure_not_weights() {
        let st = header("tiny.safetensors").fingerprint();
        assert_eq!(st, header("tiny-changed-weights.safetensors").fingerprint());
        let q8 = header("tiny-llama-q8_0.gguf").fingerprint();
        assert_eq!(
            q8,
            header("tiny-llama-q8_0-changed-weights.gguf").fingerprint()
        );
        assert_ne!(q8, header("tiny-llama-f16.gguf").fingerprint());
        assert_eq!(q8.format, Format::Gguf);
        assert_eq!(st.format, Format::Safetensors);
        assert_eq!(q8.to_string().parse::<Fingerprint>().unwrap(), q8);
        assert!("onnx:00".parse::<Fingerprint>().is_err());
    }

    #[test]
    fn truncated_copies_declare_more_than_they_have() {
        for name in [
            "tiny-truncated.safetensors",
            "tiny-llama-q8_0-truncated.gguf",
        ] {
            let h = header(name);
            let len = std::fs::metadata(fixture(name)).unwrap().len();
            assert!(h.expected_file_size() > len, "{name}");
        }
    }
}
