//! Any bytes given to the header readers are a header or an error: never a panic, a hang or a
//! large allocation.
#![no_main]

use cargo_models::formats::{gguf, safetensors};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = safetensors::parse(data);
    let _ = safetensors::read(std::io::Cursor::new(data));
    if let Ok(header) = gguf::read(data) {
        let _ = header.fingerprint();
    }
});
