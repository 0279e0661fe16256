//! The GGUF header reader, written against ggml's `docs/gguf.md`: magic `GGUF`, a `u32`
//! version (2 and 3 are read; 1 is refused), `u64` tensor and key-value counts, the key-value
//! metadata, then one tensor info per tensor (name, dimensions, `ggml_type`, offset). Tensor data
//! starts at the next multiple of `general.alignment` (default 32) after the header.
//!
//! Only the header bytes are read, sequentially. Every count and length read from the file is
//! checked against a limit before it is used, and no buffer is sized from a count: a hostile
//! header is an error naming its byte offset, never a panic, a loop or a large allocation.

use std::collections::BTreeMap;
use std::io::{self, Read};

use super::{Format, Header, Tensor};
use crate::hash::Hasher;

/// `GGUF` in file order.
pub const MAGIC: &[u8; 4] = b"GGUF";

/// Most key-value pairs: real files have tens to a few hundred.
pub const MAX_KV_COUNT: u64 = 1 << 16;
/// Most tensors: the largest published models have a few thousand.
pub const MAX_TENSOR_COUNT: u64 = 1 << 20;
/// Longest string (key, name or value): the longest real values are chat templates of a few
/// KiB; 16 MiB leaves room for an embedded document without letting a file ask for gigabytes.
pub const MAX_STRING_LEN: u64 = 1 << 24;
/// Most elements in one array: tokenizer vocabularies and merge lists have up to a few
/// hundred thousand entries.
pub const MAX_ARRAY_LEN: u64 = 1 << 24;
/// Deepest nesting of arrays in arrays (the spec allows it; real files use one level).
pub const MAX_NESTING: u32 = 4;
/// Most tensor dimensions (`GGML_MAX_DIMS` is 4).
pub const MAX_DIMS: u32 = 8;
/// Most header bytes read in all: a hostile file cannot keep the reader busy past this.
pub const MAX_HEADER_LEN: u64 = 1 << 30;
/// Arrays up to this many elements keep their values in [`Header::metadata`]; longer ones
/// (vocabularies) are summarised by type and length.
const KEPT_ARRAY_LEN: u64 = 16;

/// A GGUF header that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("bad GGUF header at byte {offset}: {problem}")]
pub struct GgufError {
    /// Byte offset from the start of the file where the problem was found.
    pub offset: u64,
    pub problem: GgufProblem,
}

/// What is wrong with a GGUF header.
#[derive(Debug, thiserror::Error)]
pub enum GgufProblem {
    #[error("not a GGUF file (the magic is not `GGUF`)")]
    Magic,
    #[error(
        "GGUF version 1 is not supported (it predates 64-bit counts); convert the file with a current llama.cpp"
    )]
    Version1,
    #[error("GGUF version {0} is not supported; this build reads versions 2 and 3")]
    Version(u32),
    #[error("the file ends inside the header")]
    Truncated,
    #[error("{what} is {found}, more than the limit of {limit}")]
    Limit {
        what: &'static str,
        found: u64,
        limit: u64,
    },
    #[error("unknown metadata value type {0}")]
    ValueType(u32),
    #[error("unknown ggml tensor type {0}")]
    TensorType(u32),
    #[error("a string is not UTF-8")]
    Utf8,
    #[error("key `{0}` appears twice")]
    DuplicateKey(String),
    #[error("tensor `{0}` appears twice")]
    DuplicateTensor(String),
    #[error(
        "tensor `{name}` has {elements} elements, not a multiple of its type's block of {block}"
    )]
    Block {
        name: String,
        elements: u64,
        block: u64,
    },
    #[error("tensor `{0}` is too large (its size overflows 64 bits)")]
    Overflow(String),
    #[error(
        "tensor `{name}` is at data offset {offset}, not a multiple of the alignment {alignment}"
    )]
    Misaligned {
        name: String,
        offset: u64,
        alignment: u64,
    },
    #[error("`general.alignment` must be a non-zero power of two, found {0}")]
    Alignment(u64),
    #[error("could not read: {0}")]
    Io(io::Error),
}

/// Name, elements per block and bytes per block of each `ggml_type`, by id (ggml.h).
fn ggml_type(id: u32) -> Option<(&'static str, u64, u64)> {
    Some(match id {
        0 => ("F32", 1, 4),
        1 => ("F16", 1, 2),
        2 => ("Q4_0", 32, 18),
        3 => ("Q4_1", 32, 20),
        6 => ("Q5_0", 32, 22),
        7 => ("Q5_1", 32, 24),
        8 => ("Q8_0", 32, 34),
        9 => ("Q8_1", 32, 40),
        10 => ("Q2_K", 256, 84),
        11 => ("Q3_K", 256, 110),
        12 => ("Q4_K", 256, 144),
        13 => ("Q5_K", 256, 176),
        14 => ("Q6_K", 256, 210),
        15 => ("Q8_K", 256, 292),
        16 => ("IQ2_XXS", 256, 66),
        17 => ("IQ2_XS", 256, 74),
        18 => ("IQ3_XXS", 256, 98),
        19 => ("IQ1_S", 256, 50),
        20 => ("IQ4_NL", 32, 18),
        21 => ("IQ3_S", 256, 110),
        22 => ("IQ2_S", 256, 82),
        23 => ("IQ4_XS", 256, 136),
        24 => ("I8", 1, 1),
        25 => ("I16", 1, 2),
        26 => ("I32", 1, 4),
        27 => ("I64", 1, 8),
        28 => ("F64", 1, 8),
        29 => ("IQ1_M", 256, 56),
        30 => ("BF16", 1, 2),
        34 => ("TQ1_0", 256, 54),
        35 => ("TQ2_0", 256, 66),
        39 => ("MXFP4", 32, 17),
        _ => return None,
    })
}

/// The name llama.cpp gives a `general.file_type` value (`llama_ftype`).
pub fn file_type_name(id: u64) -> Option<&'static str> {
    Some(match id {
        0 => "ALL_F32",
        1 => "MOSTLY_F16",
        2 => "MOSTLY_Q4_0",
        3 => "MOSTLY_Q4_1",
        7 => "MOSTLY_Q8_0",
        8 => "MOSTLY_Q5_0",
        9 => "MOSTLY_Q5_1",
        10 => "MOSTLY_Q2_K",
        11 => "MOSTLY_Q3_K_S",
        12 => "MOSTLY_Q3_K_M",
        13 => "MOSTLY_Q3_K_L",
        14 => "MOSTLY_Q4_K_S",
        15 => "MOSTLY_Q4_K_M",
        16 => "MOSTLY_Q5_K_S",
        17 => "MOSTLY_Q5_K_M",
        18 => "MOSTLY_Q6_K",
        19 => "MOSTLY_IQ2_XXS",
        20 => "MOSTLY_IQ2_XS",
        21 => "MOSTLY_Q2_K_S",
        22 => "MOSTLY_IQ3_XS",
        23 => "MOSTLY_IQ3_XXS",
        24 => "MOSTLY_IQ1_S",
        25 => "MOSTLY_IQ4_NL",
        26 => "MOSTLY_IQ3_S",
        27 => "MOSTLY_IQ3_M",
        28 => "MOSTLY_IQ2_S",
        29 => "MOSTLY_IQ2_M",
        30 => "MOSTLY_IQ4_XS",
        31 => "MOSTLY_IQ1_M",
        32 => "MOSTLY_BF16",
        36 => "MOSTLY_TQ1_0",
        37 => "MOSTLY_TQ2_0",
        38 => "MOSTLY_MXFP4_MOE",
        _ => return None,
    })
}

fn err_at(offset: u64, problem: GgufProblem) -> GgufError {
    GgufError { offset, problem }
}

/// A reader that counts its position and refuses to go past [`MAX_HEADER_LEN`].
struct Cursor<R> {
    inner: R,
    pos: u64,
}

impl<R: Read> Cursor<R> {
    fn err(&self, problem: GgufProblem) -> GgufError {
        GgufError {
            offset: self.pos,
            problem,
        }
    }

    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], GgufError> {
        let mut buf = [0u8; N];
        self.fill(&mut buf)?;
        Ok(buf)
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<(), GgufError> {
        if self.pos + buf.len() as u64 > MAX_HEADER_LEN {
            return Err(self.err(GgufProblem::Limit {
                what: "the header length",
                found: self.pos + buf.len() as u64,
                limit: MAX_HEADER_LEN,
            }));
        }
        match self.inner.read_exact(buf) {
            Ok(()) => {
                self.pos += buf.len() as u64;
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                Err(self.err(GgufProblem::Truncated))
            }
            Err(e) => Err(self.err(GgufProblem::Io(e))),
        }
    }

    fn u32(&mut self) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }

    fn u64(&mut self) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }

    fn count(&mut self, what: &'static str, limit: u64) -> Result<u64, GgufError> {
        let at = self.pos;
        let n = self.u64()?;
        if n > limit {
            return Err(err_at(
                at,
                GgufProblem::Limit {
                    what,
                    found: n,
                    limit,
                },
            ));
        }
        Ok(n)
    }

    /// A length-prefixed string's bytes; the length is checked before anything is allocated.
    fn string_bytes(&mut self) -> Result<Vec<u8>, GgufError> {
        let n = self.count("a string's length", MAX_STRING_LEN)?;
        let mut buf = Vec::new();
        // Grows only as bytes actually arrive: a short file cannot make this allocate `n`.
        let got = (&mut self.inner)
            .take(n)
            .read_to_end(&mut buf)
            .map_err(|e| self.err(GgufProblem::Io(e)))?;
        self.pos += got as u64;
        if (got as u64) < n {
            return Err(self.err(GgufProblem::Truncated));
        }
        Ok(buf)
    }

    fn string(&mut self) -> Result<String, GgufError> {
        let at = self.pos;
        String::from_utf8(self.string_bytes()?).map_err(|_| err_at(at, GgufProblem::Utf8))
    }
}

/// Reads a GGUF header from the start of `reader`, which is left just after the tensor infos.
/// `reader` should be buffered.
pub fn read(reader: impl Read) -> Result<Header, GgufError> {
    let mut c = Cursor {
        inner: reader,
        pos: 0,
    };
    if &c.bytes::<4>()? != MAGIC {
        return Err(err_at(0, GgufProblem::Magic));
    }
    let version = c.u32()?;
    match version {
        2 | 3 => {}
        1 => return Err(err_at(4, GgufProblem::Version1)),
        v => return Err(err_at(4, GgufProblem::Version(v))),
    }
    let tensor_count = c.count("the tensor count", MAX_TENSOR_COUNT)?;
    let kv_count = c.count("the metadata key count", MAX_KV_COUNT)?;
    let mut metadata = BTreeMap::new();
    let mut vocab: Option<Hasher> = None;
    let mut alignment = 32u64;
    let mut alignment_at = 0;
    for _ in 0..kv_count {
        let at = c.pos;
        let key = c.string()?;
        let value_type = c.u32()?;
        let tokens = key == "tokenizer.ggml.tokens";
        let mut hasher = tokens.then(Hasher::new);
        let value = value(&mut c, value_type, 0, hasher.as_mut())?;
        if tokens {
            vocab = hasher;
        }
        if key == "general.alignment" {
            alignment_at = at;
            alignment = value.as_u64().unwrap_or(0);
        }
        if metadata.contains_key(&key) {
            return Err(err_at(at, GgufProblem::DuplicateKey(key)));
        }
        metadata.insert(key, value);
    }
    if alignment == 0 || !alignment.is_power_of_two() {
        return Err(err_at(alignment_at, GgufProblem::Alignment(alignment)));
    }
    let mut tensors: Vec<Tensor> = Vec::new();
    let mut names = std::collections::HashSet::new();
    for _ in 0..tensor_count {
        let at = c.pos;
        let name = c.string()?;
        let dims_at = c.pos;
        let n_dims = c.u32()?;
        if n_dims > MAX_DIMS {
            return Err(err_at(
                dims_at,
                GgufProblem::Limit {
                    what: "the number of dimensions",
                    found: n_dims.into(),
                    limit: MAX_DIMS.into(),
                },
            ));
        }
        let mut shape = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            shape.push(c.u64()?);
        }
        let type_at = c.pos;
        let type_id = c.u32()?;
        let Some((dtype, block, block_bytes)) = ggml_type(type_id) else {
            return Err(err_at(type_at, GgufProblem::TensorType(type_id)));
        };
        let offset_at = c.pos;
        let offset = c.u64()?;
        let elements = shape
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(d))
            .ok_or_else(|| err_at(at, GgufProblem::Overflow(name.clone())))?;
        if !elements.is_multiple_of(block) {
            return Err(err_at(
                at,
                GgufProblem::Block {
                    name,
                    elements,
                    block,
                },
            ));
        }
        let size = (elements / block)
            .checked_mul(block_bytes)
            .filter(|s| s.checked_add(offset).is_some())
            .ok_or_else(|| err_at(at, GgufProblem::Overflow(name.clone())))?;
        if !offset.is_multiple_of(alignment) {
            return Err(err_at(
                offset_at,
                GgufProblem::Misaligned {
                    name,
                    offset,
                    alignment,
                },
            ));
        }
        if !names.insert(name.clone()) {
            return Err(err_at(at, GgufProblem::DuplicateTensor(name)));
        }
        tensors.push(Tensor {
            name,
            dtype: dtype.to_string(),
            shape,
            offset,
            size,
        });
    }
    let header_end = c.pos;
    let data_start = header_end.div_ceil(alignment) * alignment;
    let data_size = tensors.iter().map(|t| t.offset + t.size).max().unwrap_or(0);
    let str_meta = |k: &str| metadata.get(k).and_then(|v| v.as_str()).map(str::to_string);
    Ok(Header {
        format: Format::Gguf,
        version: Some(version),
        header_size: data_start,
        alignment,
        data_size,
        architecture: str_meta("general.architecture"),
        name: str_meta("general.name"),
        file_type: metadata.get("general.file_type").and_then(|v| v.as_u64()),
        vocab_sha256: vocab.map(|h| h.finish().0),
        tensors,
        metadata,
    })
}

/// One metadata value as JSON; arrays longer than [`KEPT_ARRAY_LEN`] become a summary.
/// Strings of a `tokenizer.ggml.tokens` array are fed to `vocab`, length-prefixed.
fn value<R: Read>(
    c: &mut Cursor<R>,
    value_type: u32,
    depth: u32,
    mut vocab: Option<&mut Hasher>,
) -> Result<serde_json::Value, GgufError> {
    use serde_json::Value;
    let at = c.pos;
    Ok(match value_type {
        0 => Value::from(c.bytes::<1>()?[0]),
        1 => Value::from(c.bytes::<1>()?[0] as i8),
        2 => Value::from(u16::from_le_bytes(c.bytes()?)),
        3 => Value::from(i16::from_le_bytes(c.bytes()?)),
        4 => Value::from(c.u32()?),
        5 => Value::from(i32::from_le_bytes(c.bytes()?)),
        6 => Value::from(f32::from_le_bytes(c.bytes()?)),
        7 => Value::from(c.bytes::<1>()?[0] != 0),
        8 => {
            let bytes = c.string_bytes()?;
            if let Some(h) = vocab {
                h.update(&(bytes.len() as u64).to_le_bytes());
                h.update(&bytes);
            }
            // Token strings may hold partial UTF-8 sequences; show them lossily.
            Value::from(String::from_utf8_lossy(&bytes).into_owned())
        }
        9 => {
            if depth >= MAX_NESTING {
                return Err(c.err(GgufProblem::Limit {
                    what: "the nesting of arrays",
                    found: u64::from(depth) + 1,
                    limit: MAX_NESTING.into(),
                }));
            }
            let elem_type = c.u32()?;
            let len = c.count("an array's length", MAX_ARRAY_LEN)?;
            let keep = len <= KEPT_ARRAY_LEN;
            let mut items = Vec::new();
            for _ in 0..len {
                let v = value(c, elem_type, depth + 1, vocab.as_deref_mut())?;
                if keep {
                    items.push(v);
                }
            }
            if keep {
                Value::Array(items)
            } else {
                Value::from(format!("[{} x {}]", len, type_name(elem_type)))
            }
        }
        10 => Value::from(c.u64()?),
        11 => Value::from(i64::from_le_bytes(c.bytes()?)),
        12 => Value::from(f64::from_le_bytes(c.bytes()?)),
        t => {
            return Err(err_at(at, GgufProblem::ValueType(t)));
        }
    })
}

fn type_name(t: u32) -> &'static str {
    match t {
        0 => "u8",
        1 => "i8",
        2 => "u16",
        3 => "i16",
        4 => "u32",
        5 => "i32",
        6 => "f32",
        7 => "bool",
        8 => "string",
        9 => "array",
        10 => "u64",
        11 => "i64",
        12 => "f64",
        _ => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &[u8] = include_bytes!("../../fixtures/formats/tiny-llama-q8_0.gguf");

    fn read_slice(bytes: &[u8]) -> Result<Header, GgufError> {
        read(bytes)
    }

    #[test]
    fn reads_the_fixture() {
        let h = read_slice(FIXTURE).unwrap();
        assert_eq!(h.version, Some(3));
        assert_eq!(h.architecture.as_deref(), Some("llama"));
        assert!(h.tensors.iter().any(|t| t.dtype == "Q8_0"));
        assert!(h.tensors.iter().any(|t| t.dtype == "F32"));
        assert!(h.vocab_sha256.is_some());
        assert_eq!(h.header_size + h.data_size, FIXTURE.len() as u64);
    }

    #[test]
    fn every_truncation_of_the_header_is_an_error() {
        let h = read_slice(FIXTURE).unwrap();
        for len in 0..h.header_size as usize {
            // The padding after the last tensor info is not read.
            let r = read_slice(&FIXTURE[..len]);
            if len < header_end(FIXTURE) {
                let e = r.expect_err(&format!("length {len}"));
                assert!(e.offset <= len as u64, "{e} at length {len}");
            }
        }
    }

    fn header_end(bytes: &[u8]) -> usize {
        let mut r = bytes;
        read(&mut r).unwrap();
        bytes.len() - r.len()
    }

    #[test]
    fn every_byte_flipped_reads_or_errors_without_panicking() {
        let end = header_end(FIXTURE);
        let mut bytes = FIXTURE.to_vec();
        for i in 0..end {
            for mask in [0x01, 0x80, 0xff] {
                bytes[i] ^= mask;
                if let Err(e) = read_slice(&bytes) {
                    assert!(e.offset <= bytes.len() as u64, "{e}");
                }
                bytes[i] ^= mask;
            }
        }
    }

    #[test]
    fn random_headers_error_without_panicking() {
        // A small xorshift: deterministic, no dependency.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 256) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if next() % 2 == 0 && bytes.len() >= 8 {
                bytes[..4].copy_from_slice(MAGIC);
                bytes[4..8].copy_from_slice(&3u32.to_le_bytes());
            }
            assert!(read_slice(&bytes).is_err() || bytes.len() >= 24);
        }
    }

    fn header(tensors: u64, kvs: u64) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend(3u32.to_le_bytes());
        b.extend(tensors.to_le_bytes());
        b.extend(kvs.to_le_bytes());
        b
    }

    fn limit_of(r: Result<Header, GgufError>) -> (&'static str, u64) {
        match r.unwrap_err() {
            GgufError {
                problem: GgufProblem::Limit { what, .. },
                offset,
            } => (what, offset),
            e => panic!("not a limit: {e}"),
        }
    }

    #[test]
    fn huge_counts_and_lengths_hit_the_limits_before_allocating() {
        assert_eq!(
            limit_of(read_slice(&header(u64::MAX, 0))),
            ("the tensor count", 8)
        );
        assert_eq!(
            limit_of(read_slice(&header(0, u64::MAX))),
            ("the metadata key count", 16)
        );
        let mut b = header(0, 1);
        b.extend(u64::MAX.to_le_bytes()); // key length
        assert_eq!(limit_of(read_slice(&b)), ("a string's length", 24));
        let mut b = header(0, 1);
        b.extend(1u64.to_le_bytes());
        b.push(b'k');
        b.extend(9u32.to_le_bytes()); // array
        b.extend(0u32.to_le_bytes()); // of u8
        b.extend(u64::MAX.to_le_bytes());
        assert_eq!(limit_of(read_slice(&b)), ("an array's length", 41));
        // Arrays nested deeper than the limit.
        let mut b = header(0, 1);
        b.extend(1u64.to_le_bytes());
        b.push(b'k');
        b.extend(9u32.to_le_bytes());
        for _ in 0..10 {
            b.extend(9u32.to_le_bytes());
            b.extend(1u64.to_le_bytes());
        }
        assert_eq!(limit_of(read_slice(&b)).0, "the nesting of arrays");
        // A string that claims 16 MiB but is not there is truncated, not allocated.
        let mut b = header(0, 1);
        b.extend(MAX_STRING_LEN.to_le_bytes());
        let e = read_slice(&b).unwrap_err();
        assert!(matches!(e.problem, GgufProblem::Truncated), "{e}");
    }

    #[test]
    fn version_1_and_future_versions_are_refused() {
        let mut b = header(0, 0);
        b[4..8].copy_from_slice(&1u32.to_le_bytes());
        let e = read_slice(&b).unwrap_err();
        assert!(matches!(e.problem, GgufProblem::Version1));
        assert_eq!(e.offset, 4);
        b[4..8].copy_from_slice(&4u32.to_le_bytes());
        assert!(
            read_slice(&b)
                .unwrap_err()
                .to_string()
                .contains("GGUF version 4 is not supported")
        );
        b[4..8].copy_from_slice(&2u32.to_le_bytes());
        assert_eq!(read_slice(&b).unwrap().version, Some(2));
    }
}
