//! `cargo models inspect`: header summaries and hashes of the committed fixtures, by file and
//! by model name.

use std::fs;
use std::path::{Path, PathBuf};

use crate::{Entry, TestContext, sha256_hex};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/formats")
        .join(name)
}

/// Copies a fixture into the project folder, so the output names it relatively.
fn copy(ctx: &TestContext, name: &str) -> Vec<u8> {
    let data = fs::read(fixture(name)).unwrap();
    fs::write(ctx.project.join(name), &data).unwrap();
    data
}

#[test]
fn a_file_works_outside_any_project() {
    let ctx = TestContext::new();
    for name in ["tiny-llama-q8_0.gguf", "tiny.safetensors"] {
        copy(&ctx, name);
        let run = ctx.run(&["inspect", name]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.stderr, "");
        insta::assert_snapshot!(format!("inspect_{name}"), run.stdout);
    }
}

#[test]
fn json_has_the_summary_and_every_hash() {
    let ctx = TestContext::new();
    let data = copy(&ctx, "tiny-llama-q8_0.gguf");
    let run = ctx.run(&["inspect", "tiny-llama-q8_0.gguf", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let hex = sha256_hex(&data);
    assert_eq!(v["sha256"], hex);
    assert_eq!(v["autov2"], hex[..10]);
    assert_eq!(
        v["legacy_model_hash"], "e3b0c442",
        "the file is shorter than 1 MiB"
    );
    assert_eq!(v["size"], data.len());
    let h = &v["header"];
    assert_eq!(h["format"], "gguf");
    assert_eq!(h["version"], 3);
    assert_eq!(h["architecture"], "llama");
    assert_eq!(h["name"], "tiny-llama");
    assert_eq!(h["file_type_name"], "MOSTLY_Q8_0");
    assert_eq!(h["tensor_count"], 4);
    assert_eq!(h["dtypes"]["Q8_0"]["tensors"], 2);
    assert_eq!(h["expected_size"], data.len());
    assert!(h["fingerprint"].as_str().unwrap().starts_with("gguf:"));
    assert!(v["header_error"].is_null());

    copy(&ctx, "tiny.safetensors");
    let run = ctx.run(&["inspect", "tiny.safetensors", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["header"]["format"], "safetensors");
    assert_eq!(v["header"]["metadata"]["ss_network_dim"], "4");
    assert!(v["header"].get("version").is_none());
}

#[test]
fn a_truncated_or_damaged_file_exits_1_and_says_why() {
    let ctx = TestContext::new();
    for name in [
        "tiny-truncated.safetensors",
        "tiny-llama-q8_0-truncated.gguf",
    ] {
        copy(&ctx, name);
        let run = ctx.run(&["inspect", name]);
        assert_eq!(run.code, 1, "{name}: {}", run.stdout);
        assert!(
            run.stdout
                .contains("problem       truncated: the header declares"),
            "{}",
            run.stdout
        );
    }
    // A GGUF whose header ends early: the hashes still print, the problem names the offset.
    let data = fs::read(fixture("tiny-llama-q8_0.gguf")).unwrap();
    fs::write(ctx.project.join("cut.gguf"), &data[..100]).unwrap();
    let run = ctx.run(&["inspect", "cut.gguf"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout, @r"
    file          cut.gguf
    size          100 B (100 bytes)
    sha256        0b9121716149d2f9369fcfdff6a82ea954c0e18219a28c78f26691f68515d354
    AutoV2        0b91217161
    legacy hash   e3b0c442
    problem       bad GGUF header at byte 93: the file ends inside the header
    ");
}

#[test]
fn other_files_print_their_hashes_only() {
    let ctx = TestContext::new();
    fs::write(ctx.project.join("model.onnx"), b"not a checkpoint").unwrap();
    let run = ctx.run(&["inspect", "model.onnx"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("format        unknown (not safetensors or GGUF)"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_name_is_read_from_the_cache_and_never_downloaded() {
    let ctx = TestContext::new();
    let data = fs::read(fixture("tiny.safetensors")).unwrap();
    let url = url::Url::from_file_path(fixture("tiny.safetensors")).unwrap();
    ctx.write_lockfile(&[Entry::new("lora", url.as_str(), &data)]);
    let run = ctx.run(&["inspect", "lora"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("model `lora` is not fetched"),
        "{}",
        run.stderr
    );
    assert_eq!(
        ctx.cache_files()
            .iter()
            .filter(|f| f.to_string_lossy().contains("blobs-v1"))
            .count(),
        0
    );
    assert_eq!(ctx.run(&["fetch"]).code, 0);
    let run = ctx.run(&["inspect", &sha256_hex(&data)[..10], "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["model"], "lora");
    assert_eq!(v["header"]["tensor_count"], 4);
    let run = ctx.run(&["inspect", "nope"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn neither_a_file_nor_in_a_lockfile() {
    let ctx = TestContext::new();
    let run = ctx.run(&["inspect", "missing.gguf"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("`missing.gguf` is not a file, and there is no models.lock to look it up in"),
        "{}",
        run.stderr
    );
}

/// Replaces the cached blob of `pinned` with `other` bytes, as a sync tool or a bad disk might.
fn replace_blob(ctx: &TestContext, pinned: &[u8], other: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    let blob = ctx.blob_path(pinned);
    fs::set_permissions(&blob, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(&blob, other).unwrap();
}

#[test]
fn add_records_the_fingerprint_and_verify_fast_checks_it() {
    let ctx = TestContext::new();
    let data = copy(&ctx, "tiny-llama-q8_0.gguf");
    fs::write(ctx.project.join("vocab.txt"), b"a\nb\n").unwrap();
    let run = ctx.run(&["add", "tiny-llama-q8_0.gguf", "--name", "llm"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = ctx.run(&["add", "vocab.txt"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let inspected = ctx.run(&["inspect", "llm", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&inspected.stdout).unwrap();
    let fingerprint = v["header"]["fingerprint"].as_str().unwrap().to_string();
    let lockfile = fs::read_to_string(ctx.lockfile_path()).unwrap();
    assert_eq!(
        lockfile.matches("fingerprint = ").count(),
        1,
        "only the GGUF file has one:\n{lockfile}"
    );
    assert!(
        lockfile.contains(&format!("fingerprint = \"{fingerprint}\"")),
        "{lockfile}"
    );

    let run = ctx.run(&["verify", "--fast"]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    // Truncated by a sync tool: the header says how much is missing.
    let truncated = fs::read(fixture("tiny-llama-q8_0-truncated.gguf")).unwrap();
    replace_blob(&ctx, &data, &truncated);
    let run = ctx.run(&["verify", "--fast", "llm"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    insta::assert_snapshot!(ctx.redact(&run.stderr), @r"
    error: `llm` failed the fast check: the cached file is 5142 bytes, `models.lock` pins 7712; truncated: the header declares 6,400 data bytes, the file has 3,830; run `cargo models verify llm` to rehash it
        Finished verifying 1 model in [TIME], 1 failed
    error: 1 of 1 models failed verification: `llm`
    ");

    // Re-quantized to F16: another structure.
    replace_blob(
        &ctx,
        &data,
        &fs::read(fixture("tiny-llama-f16.gguf")).unwrap(),
    );
    let run = ctx.run(&["verify", "--fast", "llm"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "another structure than the pinned file (now llama, 4 tensors, 3,104 parameters, F16 + F32): a re-quantization or a different model"
        ),
        "{}",
        run.stderr
    );

    // Other weights, same structure and size: the fast check passes, as documented; the full
    // one does not.
    let changed = fs::read(fixture("tiny-llama-q8_0-changed-weights.gguf")).unwrap();
    replace_blob(&ctx, &data, &changed);
    let run = ctx.run(&["verify", "--fast", "llm"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = ctx.run(&["verify", "llm"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
}

#[test]
fn a_mismatch_says_why_from_the_header() {
    let ctx = TestContext::new();
    let pinned = fs::read(fixture("tiny-llama-q8_0.gguf")).unwrap();
    let fingerprint = {
        copy(&ctx, "tiny-llama-q8_0.gguf");
        let run = ctx.run(&["inspect", "tiny-llama-q8_0.gguf", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        v["header"]["fingerprint"].as_str().unwrap().to_string()
    };
    // A pinned size that differs from what the server announces stops the download before any
    // byte arrives, so most cases here pin no size.
    let fetch_from = |served: &str, with_fingerprint: bool, with_size: bool| {
        let url = url::Url::from_file_path(fixture(served)).unwrap();
        let mut text = format!(
            "version = 1\n\n[[model]]\nname = \"llm\"\nurl = \"{url}\"\nsha256 = \"{}\"\n",
            sha256_hex(&pinned),
        );
        if with_size {
            text.push_str(&format!("size = {}\n", pinned.len()));
        }
        if with_fingerprint {
            text.push_str(&format!("fingerprint = \"{fingerprint}\"\n"));
        }
        fs::write(ctx.lockfile_path(), text).unwrap();
        let run = ctx.run(&["fetch"]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(run.stderr.contains("model hash mismatch"), "{}", run.stderr);
        run.stderr
            .lines()
            .find_map(|l| l.trim().strip_prefix("cause:"))
            .map(|c| c.trim().to_string())
    };
    assert_eq!(
        fetch_from("tiny-llama-q8_0-truncated.gguf", true, false).as_deref(),
        Some("truncated: the header declares 6,400 data bytes, the file has 3,830")
    );
    assert_eq!(
        fetch_from("tiny-llama-q8_0-changed-weights.gguf", true, true).as_deref(),
        Some(
            "same structure as the pinned file (llama, 4 tensors, 3,104 parameters, F32 + Q8_0), different weights: another fine-tune or a modified copy"
        )
    );
    assert_eq!(
        fetch_from("tiny-llama-f16.gguf", true, false).as_deref(),
        Some(
            "another structure than the pinned file (now llama, 4 tensors, 3,104 parameters, F16 + F32): a re-quantization or a different model"
        )
    );
    assert_eq!(
        fetch_from("tiny.safetensors", true, false).as_deref(),
        Some(
            "a safetensors file (4 tensors, 385 parameters, F16 + F32), but the pinned one is gguf: a different file altogether"
        )
    );
    assert_eq!(
        fetch_from("tiny-llama-q8_0-changed-weights.gguf", false, true).as_deref(),
        Some(
            "an intact gguf file (llama, 4 tensors, 3,104 parameters, F32 + Q8_0); `models.lock` has no `fingerprint` to compare its structure with"
        )
    );
    assert_eq!(
        fetch_from("make.py", true, false).as_deref(),
        Some("not a gguf file, as the pinned one is: a different file altogether")
    );
    assert_eq!(fetch_from("make.py", false, false), None);
}

#[test]
fn verify_says_why_a_cached_file_is_corrupt() {
    let ctx = TestContext::new();
    let data = copy(&ctx, "tiny.safetensors");
    assert_eq!(ctx.run(&["add", "tiny.safetensors"]).code, 0);
    replace_blob(
        &ctx,
        &data,
        &fs::read(fixture("tiny-changed-weights.safetensors")).unwrap(),
    );
    let run = ctx.run(&["verify"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "\n  cause:    same structure as the pinned file (4 tensors, 385 parameters, F16 + F32), different weights: another fine-tune or a modified copy\n"
        ),
        "{}",
        run.stderr
    );
}

/// The committed fixtures are what `fixtures/formats/make.py` makes with the reference Python
/// writers: regenerate them into a temp folder and compare what the reader sees. Needs the venv
/// of `.ci/run` (`.tools/formats-venv`, or `CARGO_MODELS_FORMATS_PYTHON`); skipped with a
/// message without it, except under `CI=true`, where it fails.
#[test]
fn fixtures_match_what_the_python_writers_make() {
    let python = std::env::var_os("CARGO_MODELS_FORMATS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/formats-venv/bin/python")
        });
    if !python.exists() {
        let message = format!(
            "SKIPPED fixtures_match_what_the_python_writers_make: no `{}`; run `python3 -m venv .tools/formats-venv && .tools/formats-venv/bin/pip install safetensors gguf numpy`",
            python.display()
        );
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("\n\n!!! {message}\n");
        return;
    }
    let ctx = TestContext::new();
    let out = ctx.dir.path().join("made");
    let made = std::process::Command::new(&python)
        .arg(fixture("make.py"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let inspect = |path: &Path| -> serde_json::Value {
        let run = ctx.run(&["inspect", path.to_str().unwrap(), "--format", "json"]);
        serde_json::from_str(&run.stdout).unwrap()
    };
    let mut compared = 0;
    for entry in fs::read_dir(&out).unwrap() {
        let made = entry.unwrap().path();
        let name = made.file_name().unwrap().to_str().unwrap().to_string();
        let (new, old) = (inspect(&made), inspect(&fixture(&name)));
        assert_eq!(new["header"], old["header"], "{name}");
        assert_eq!(new["header_error"], old["header_error"], "{name}");
        if name.ends_with(".gguf") {
            // The GGUF writer is deterministic to the byte.
            assert_eq!(new["sha256"], old["sha256"], "{name}");
        }
        compared += 1;
    }
    assert_eq!(compared, 7);
}

#[test]
fn update_re_pins_the_fingerprint_with_the_hash() {
    let ctx = TestContext::new();
    copy(&ctx, "tiny-llama-q8_0.gguf");
    assert_eq!(
        ctx.run(&["add", "tiny-llama-q8_0.gguf", "--name", "llm"])
            .code,
        0
    );
    let fingerprint_of = |file: &str| {
        let run = ctx.run(&["inspect", file, "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        v["header"]["fingerprint"].as_str().unwrap().to_string()
    };
    let before = fingerprint_of("tiny-llama-q8_0.gguf");
    // The file behind the URL is re-quantized.
    let f16 = fs::read(fixture("tiny-llama-f16.gguf")).unwrap();
    fs::write(ctx.project.join("tiny-llama-q8_0.gguf"), &f16).unwrap();
    let after = fingerprint_of("tiny-llama-q8_0.gguf");
    assert_ne!(before, after);
    let run = ctx.run(&["update", "llm"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lockfile = fs::read_to_string(ctx.lockfile_path()).unwrap();
    assert!(
        lockfile.contains(&format!("fingerprint = \"{after}\"")),
        "{lockfile}"
    );
    assert!(!lockfile.contains(&before), "{lockfile}");
    assert_eq!(ctx.run(&["verify", "--fast"]).code, 0);
}
