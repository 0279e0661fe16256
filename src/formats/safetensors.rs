//! The safetensors header reader, written against the format's README
//! (huggingface/safetensors): an 8-byte little-endian length `N`, then `N` bytes of UTF-8 JSON
//! starting with `{` (possibly padded with spaces), mapping each tensor name to its `dtype`,
//! `shape` and `data_offsets` (`[begin, end)`, relative to the byte after the header), with an
//! optional `__metadata__` map of strings to strings. Tensor data follows the header.
//!
//! `N` is checked against [`MAX_HEADER_LEN`] and against the file's length before anything is
//! allocated; only the header bytes are read.

use std::collections::BTreeMap;
use std::io::{self, Read, Seek, SeekFrom};

use super::{Format, Header, Tensor};

/// Longest JSON header: the limit the reference implementation enforces (100 MB).
pub const MAX_HEADER_LEN: u64 = 100_000_000;
/// Most tensors: the largest published models have a few thousand.
pub const MAX_TENSORS: usize = 1 << 20;
/// Most dimensions of one tensor.
pub const MAX_DIMS: usize = 64;

/// A safetensors header that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("bad safetensors header at byte {offset}: {problem}")]
pub struct SafetensorsError {
    /// Byte offset from the start of the file where the problem was found.
    pub offset: u64,
    pub problem: SafetensorsProblem,
}

/// What is wrong with a safetensors header.
#[derive(Debug, thiserror::Error)]
pub enum SafetensorsProblem {
    #[error("the file is shorter than the 8-byte header length")]
    NoLength,
    #[error("the header length is {found}, more than the limit of {limit}")]
    TooLong { found: u64, limit: u64 },
    #[error("the header length is {declared} bytes but only {available} follow it")]
    Truncated { declared: u64, available: u64 },
    #[error("the header does not start with `{{`")]
    NotJson,
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("the header must be a JSON object")]
    NotObject,
    #[error("{found} tensors, more than the limit of {limit}")]
    TooManyTensors { found: usize, limit: usize },
    #[error("`__metadata__` must map strings to strings")]
    Metadata,
    #[error("tensor `{name}`: {message}")]
    Tensor { name: String, message: String },
    #[error("could not read: {0}")]
    Io(io::Error),
}

/// Bits per element of each dtype the format defines.
fn dtype_bits(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 8,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" | "C64" => 64,
        _ => return None,
    })
}

fn err(offset: u64, problem: SafetensorsProblem) -> SafetensorsError {
    SafetensorsError { offset, problem }
}

/// Reads the header of the safetensors file `reader` (from its start).
pub fn read(mut reader: impl Read + Seek) -> Result<Header, SafetensorsError> {
    let io = |e: io::Error| err(0, SafetensorsProblem::Io(e));
    let file_len = reader.seek(SeekFrom::End(0)).map_err(io)?;
    reader.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut len = [0u8; 8];
    if file_len < 8 {
        return Err(err(0, SafetensorsProblem::NoLength));
    }
    reader.read_exact(&mut len).map_err(io)?;
    let n = check_len(u64::from_le_bytes(len), file_len - 8)?;
    let mut json = vec![0u8; n as usize];
    reader
        .read_exact(&mut json)
        .map_err(|e| err(8, SafetensorsProblem::Io(e)))?;
    let mut header = parse_json(&json)?;
    header.header_size = 8 + n;
    Ok(header)
}

/// Reads a safetensors header from the first bytes of a file (at least the whole header).
pub fn parse(bytes: &[u8]) -> Result<Header, SafetensorsError> {
    let Some(len) = bytes.first_chunk::<8>() else {
        return Err(err(0, SafetensorsProblem::NoLength));
    };
    let n = check_len(u64::from_le_bytes(*len), bytes.len() as u64 - 8)?;
    let mut header = parse_json(&bytes[8..8 + n as usize])?;
    header.header_size = 8 + n;
    Ok(header)
}

fn check_len(n: u64, available: u64) -> Result<u64, SafetensorsError> {
    if n > MAX_HEADER_LEN {
        return Err(err(
            0,
            SafetensorsProblem::TooLong {
                found: n,
                limit: MAX_HEADER_LEN,
            },
        ));
    }
    if n > available {
        return Err(err(
            0,
            SafetensorsProblem::Truncated {
                declared: n,
                available,
            },
        ));
    }
    Ok(n)
}

/// The byte offset in the file of a 1-based line and column of the JSON.
fn json_offset(json: &[u8], line: usize, column: usize) -> u64 {
    let line_start = json
        .split_inclusive(|&b| b == b'\n')
        .take(line.saturating_sub(1))
        .map(<[u8]>::len)
        .sum::<usize>();
    8 + (line_start + column.saturating_sub(1)) as u64
}

fn parse_json(json: &[u8]) -> Result<Header, SafetensorsError> {
    use serde_json::Value;
    if json.first() != Some(&b'{') {
        return Err(err(8, SafetensorsProblem::NotJson));
    }
    let value: Value = serde_json::from_slice(json).map_err(|e| {
        err(
            json_offset(json, e.line(), e.column()),
            SafetensorsProblem::Json(e.to_string()),
        )
    })?;
    let Value::Object(map) = value else {
        return Err(err(8, SafetensorsProblem::NotObject));
    };
    if map.len() > MAX_TENSORS + 1 {
        return Err(err(
            8,
            SafetensorsProblem::TooManyTensors {
                found: map.len(),
                limit: MAX_TENSORS,
            },
        ));
    }
    // serde_json does not keep positions in a `Value`; a problem inside an entry is reported
    // at the first occurrence of its quoted name in the header.
    let at = |name: &str| {
        let quoted = serde_json::to_string(name).unwrap_or_default();
        json.windows(quoted.len().max(1))
            .position(|w| w == quoted.as_bytes())
            .map_or(8, |p| 8 + p as u64)
    };
    let mut metadata = BTreeMap::new();
    let mut tensors = Vec::new();
    for (name, entry) in map {
        if name == "__metadata__" {
            let Value::Object(m) = entry else {
                return Err(err(at(&name), SafetensorsProblem::Metadata));
            };
            for (k, v) in m {
                if !v.is_string() {
                    return Err(err(at(&k), SafetensorsProblem::Metadata));
                }
                metadata.insert(k, v);
            }
            continue;
        }
        let offset = at(&name);
        let tensor = tensor(&name, &entry).map_err(|message| {
            err(
                offset,
                SafetensorsProblem::Tensor {
                    name: name.clone(),
                    message,
                },
            )
        })?;
        tensors.push(tensor);
    }
    let mut by_offset: Vec<&Tensor> = tensors.iter().filter(|t| t.size > 0).collect();
    by_offset.sort_by_key(|t| t.offset);
    for pair in by_offset.windows(2) {
        if pair[1].offset < pair[0].offset + pair[0].size {
            return Err(err(
                at(&pair[1].name),
                SafetensorsProblem::Tensor {
                    name: pair[1].name.clone(),
                    message: format!("its data overlaps that of `{}`", pair[0].name),
                },
            ));
        }
    }
    let data_size = tensors.iter().map(|t| t.offset + t.size).max().unwrap_or(0);
    Ok(Header {
        format: Format::Safetensors,
        version: None,
        header_size: 0,
        alignment: 1,
        data_size,
        tensors,
        metadata,
        architecture: None,
        name: None,
        file_type: None,
        vocab_sha256: None,
    })
}

fn tensor(name: &str, entry: &serde_json::Value) -> Result<Tensor, String> {
    let obj = entry.as_object().ok_or("must be an object")?;
    if let Some(k) = obj
        .keys()
        .find(|k| !matches!(k.as_str(), "dtype" | "shape" | "data_offsets"))
    {
        return Err(format!("unknown key `{k}`"));
    }
    let dtype = obj
        .get("dtype")
        .and_then(|d| d.as_str())
        .ok_or("`dtype` must be a string")?;
    let bits = dtype_bits(dtype).ok_or_else(|| format!("unknown dtype `{dtype}`"))?;
    let shape = obj
        .get("shape")
        .and_then(|s| s.as_array())
        .ok_or("`shape` must be an array")?;
    if shape.len() > MAX_DIMS {
        return Err(format!(
            "{} dimensions, more than the limit of {MAX_DIMS}",
            shape.len()
        ));
    }
    let shape: Vec<u64> = shape
        .iter()
        .map(|d| d.as_u64().ok_or("`shape` must hold non-negative integers"))
        .collect::<Result<_, _>>()?;
    let offsets = obj
        .get("data_offsets")
        .and_then(|o| o.as_array())
        .filter(|o| o.len() == 2)
        .and_then(|o| Some((o[0].as_u64()?, o[1].as_u64()?)))
        .ok_or("`data_offsets` must be two non-negative integers")?;
    let (begin, end) = offsets;
    if end < begin {
        return Err(format!("`data_offsets` end {end} is before begin {begin}"));
    }
    let bytes = shape
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d))
        .and_then(|n| n.checked_mul(bits))
        .filter(|b| b.is_multiple_of(8))
        .map(|b| b / 8)
        .ok_or("its shape overflows or is not a whole number of bytes")?;
    if bytes != end - begin {
        return Err(format!(
            "{dtype} {shape:?} takes {bytes} bytes but `data_offsets` span {}",
            end - begin
        ));
    }
    Ok(Tensor {
        name: name.to_string(),
        dtype: dtype.to_string(),
        shape,
        offset: begin,
        size: bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &[u8] = include_bytes!("../../fixtures/formats/tiny.safetensors");

    fn header_len(bytes: &[u8]) -> usize {
        8 + u64::from_le_bytes(*bytes.first_chunk().unwrap()) as usize
    }

    #[test]
    fn reads_the_fixture() {
        let h = read(std::io::Cursor::new(FIXTURE)).unwrap();
        assert_eq!(h.header_size + h.data_size, FIXTURE.len() as u64);
        assert!(!h.tensors.is_empty());
        assert!(
            h.metadata.contains_key("ss_network_dim"),
            "{:?}",
            h.metadata
        );
        assert_eq!(parse(FIXTURE).unwrap().tensors, h.tensors);
    }

    #[test]
    fn every_truncation_of_the_header_is_an_error() {
        for len in 0..header_len(FIXTURE) {
            let e = parse(&FIXTURE[..len]).expect_err(&format!("length {len}"));
            assert_eq!(e.offset, 0, "{e}");
            let e = read(std::io::Cursor::new(&FIXTURE[..len])).unwrap_err();
            assert_eq!(e.offset, 0, "{e}");
        }
    }

    #[test]
    fn every_byte_flipped_reads_or_errors_without_panicking() {
        let mut bytes = FIXTURE.to_vec();
        for i in 0..header_len(FIXTURE) {
            for mask in [0x01, 0x20, 0x80, 0xff] {
                bytes[i] ^= mask;
                if let Err(e) = parse(&bytes) {
                    assert!(e.offset < bytes.len() as u64, "{e}");
                }
                bytes[i] ^= mask;
            }
        }
    }

    #[test]
    fn random_headers_error_without_panicking() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = br#"{}[]":,0123456789 "dtype""shape""data_offsets""F32""U8"__metadata__"#;
        for _ in 0..20_000 {
            let n = (next() % 200) as usize;
            let json: Vec<u8> = (0..n)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
            bytes.extend(&json);
            let _ = parse(&bytes);
            let mut random: Vec<u8> = (0..n).map(|_| next() as u8).collect();
            let _ = parse(&random);
            random.truncate(8);
            let _ = parse(&random);
        }
    }

    #[test]
    fn a_huge_declared_length_is_refused_before_allocating() {
        let mut bytes = u64::MAX.to_le_bytes().to_vec();
        bytes.extend(b"{}");
        let e = read(std::io::Cursor::new(&bytes)).unwrap_err();
        assert!(
            matches!(e.problem, SafetensorsProblem::TooLong { .. }),
            "{e}"
        );
        // Under the limit but longer than the file: refused before the buffer is made.
        let mut bytes = (MAX_HEADER_LEN - 1).to_le_bytes().to_vec();
        bytes.extend(b"{}");
        let e = read(std::io::Cursor::new(&bytes)).unwrap_err();
        assert!(
            matches!(e.problem, SafetensorsProblem::Truncated { .. }),
            "{e}"
        );
    }

    #[test]
    fn bad_entries_name_their_offset() {
        let json = br#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#;
        let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
        bytes.extend(json);
        let e = parse(&bytes).unwrap_err();
        assert_eq!(e.offset, 9);
        assert!(e.to_string().contains("takes 8 bytes"), "{e}");
        let json = br#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}"#;
        let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
        bytes.extend(json);
        let e = parse(&bytes).unwrap_err();
        assert!(
            e.to_string()
                .contains("tensor `b`: its data overlaps that of `a`"),
            "{e}"
        );
        let json = br#"{"a": nope}"#;
        let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
        bytes.extend(json);
        let e = parse(&bytes).unwrap_err();
        // serde_json reports the column where it gave up, within the bad token.
        assert!((8 + 6..8 + 10).contains(&e.offset), "{e}");
    }
}
