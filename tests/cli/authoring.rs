//! `add`, `update`, `remove`, `--locked`/`--frozen`, and the resolver from the command line.

use std::fs;
use std::process::{Child, Stdio};

use crate::server::TestServer;
use crate::{Entry, Run, TestContext, data, sha256_hex};

/// The lockfile with hashes and the server's address replaced by stable names.
fn lockfile_text(ctx: &TestContext, bodies: &[(&str, &[u8])]) -> String {
    let mut text = ctx.redact(&fs::read_to_string(ctx.lockfile_path()).unwrap());
    for (label, body) in bodies {
        text = text.replace(&sha256_hex(body), &format!("[{label}]"));
    }
    text
}

const HEADER: &str = "# Models for the demo app.\n# Keep this sorted; cargo models does.\nversion = 1\n\n# the baseline\n[[model]]\nname = \"bert\"\nurl = \"URL\"\nsha256 = \"SHA\"\nsize = 3000  # bytes\n";

#[test]
fn add_update_remove_keep_comments_and_order() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let bert = data(500, 3000);
    let llama = data(501, 5000);
    let llama2 = data(502, 5100);
    let whisper = data(503, 700);
    server.route("bert.bin", bert.clone());
    server.route("llama.Q4_K_M.gguf", llama.clone());
    server.route("whisper-small.onnx", whisper.clone());
    fs::write(
        ctx.lockfile_path(),
        HEADER
            .replace("URL", &server.url("bert.bin"))
            .replace("SHA", &sha256_hex(&bert)),
    )
    .unwrap();
    let labels: [(&str, &[u8]); 4] = [
        ("BERT", &bert),
        ("LLAMA", &llama),
        ("LLAMA2", &llama2),
        ("WHISPER", &whisper),
    ];

    let add = ctx.run(&[
        "add",
        &server.url("llama.Q4_K_M.gguf"),
        "--name",
        "llama",
        "--alias",
        "chat",
    ]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    let add2 = ctx.run(&[
        "add",
        &server.url("whisper-small.onnx"),
        "--path",
        "models/whisper.onnx",
    ]);
    assert_eq!(add2.code, 0, "{}", add2.stderr);
    assert_eq!(
        fs::read(ctx.project.join("models/whisper.onnx")).unwrap(),
        whisper
    );
    assert_eq!(fs::read(ctx.blob_path(&llama)).unwrap(), llama);
    insta::assert_snapshot!("after_add", lockfile_text(&ctx, &labels));

    // The file behind the URL changes (a branch moved): update re-pins it.
    server.route("llama.Q4_K_M.gguf", llama2.clone());
    let unchanged_before = fs::read_to_string(ctx.lockfile_path()).unwrap();
    let locked = ctx.run(&["update", "--locked"]);
    assert_eq!(locked.code, 2, "{}", locked.stderr);
    assert!(
        locked
            .stderr
            .contains("needs to change (updating `llama`), but --locked was passed"),
        "{}",
        locked.stderr
    );
    assert_eq!(
        fs::read_to_string(ctx.lockfile_path()).unwrap(),
        unchanged_before
    );
    let update = ctx.run(&["update"]);
    assert_eq!(update.code, 0, "{}", update.stderr);
    let short = |b: &[u8]| sha256_hex(b)[..10].to_string();
    assert!(
        update.stderr.contains(&format!(
            "Updated llama: {} (4.9 KiB) -> {} (5.0 KiB)",
            short(&llama),
            short(&llama2)
        )),
        "{}",
        update.stderr
    );
    assert!(
        update.stderr.contains("Unchanged bert"),
        "{}",
        update.stderr
    );
    insta::assert_snapshot!("after_update", lockfile_text(&ctx, &labels));

    let remove = ctx.run(&["remove", "chat", "whisper-small"]);
    assert_eq!(remove.code, 0, "{}", remove.stderr);
    insta::assert_snapshot!("after_remove", lockfile_text(&ctx, &labels));
    assert!(
        ctx.blob_path(&whisper).exists(),
        "remove leaves the cache alone"
    );
}

#[test]
fn add_refuses_clashes_and_mismatches_and_writes_nothing() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(510, 1000);
    server.route("m.bin", body.clone());
    ctx.write_lockfile(&[Entry::new("m", &server.url("m.bin"), &body)]);
    let before = fs::read_to_string(ctx.lockfile_path()).unwrap();

    let clash = ctx.run(&["add", &server.url("m.bin")]);
    assert_eq!(clash.code, 2, "{}", clash.stderr);
    assert!(
        clash.stderr.contains("`m` is already a model in"),
        "{}",
        clash.stderr
    );
    assert!(clash.stderr.contains("--name"), "{}", clash.stderr);

    let wrong = sha256_hex(b"something else");
    let mismatch = ctx.run(&[
        "add",
        &server.url("m.bin"),
        "--name",
        "other",
        "--sha256",
        &wrong,
    ]);
    assert_eq!(mismatch.code, 1, "{}", mismatch.stderr);
    assert!(
        mismatch.stderr.contains("model hash mismatch for `other`"),
        "{}",
        mismatch.stderr
    );

    let locked = ctx.run(&["add", &server.url("m.bin"), "--name", "third", "--locked"]);
    assert_eq!(locked.code, 2, "{}", locked.stderr);
    assert_eq!(fs::read_to_string(ctx.lockfile_path()).unwrap(), before);
    assert_eq!(server.hits("m.bin"), 1, "--locked fails before downloading");
}

#[test]
fn add_of_a_local_file_creates_the_lockfile_at_the_workspace_root() {
    let ctx = TestContext::new();
    fs::write(
        ctx.project.join("Cargo.toml"),
        "[workspace]\nmembers = [\"crates/app\"]\nresolver = \"2\"\n",
    )
    .unwrap();
    let app = ctx.project.join("crates/app");
    fs::create_dir_all(app.join("src")).unwrap();
    fs::write(
        app.join("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    fs::write(app.join("src/lib.rs"), "").unwrap();
    let body = data(520, 2000);
    fs::write(app.join("weights.safetensors"), &body).unwrap();
    let run: Run = ctx
        .cmd()
        .args(["add", "weights.safetensors"])
        .current_dir(&app)
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lockfile = cargo_models::Lockfile::load(&ctx.lockfile_path()).unwrap();
    assert_eq!(lockfile.models[0].name, "weights");
    assert_eq!(lockfile.models[0].sha256.to_hex(), sha256_hex(&body));
    assert_eq!(lockfile.models[0].size, Some(2000));
    assert!(lockfile.models[0].url.as_str().starts_with("file:///"));
    assert!(!app.join("models.lock").exists());
}

#[test]
fn concurrent_adds_both_land() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let (a, b) = (data(530, 300_000), data(531, 300_000));
    server.route_always(
        "a.bin",
        a.clone(),
        crate::server::Fault::Throttle {
            bytes_per_sec: 1_000_000,
        },
    );
    server.route_always(
        "b.bin",
        b.clone(),
        crate::server::Fault::Throttle {
            bytes_per_sec: 1_000_000,
        },
    );
    fs::write(ctx.lockfile_path(), "version = 1\n").unwrap();
    let spawn = |url: String| -> Child {
        ctx.cmd()
            .args(["add", &url])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let children = [spawn(server.url("a.bin")), spawn(server.url("b.bin"))];
    for child in children {
        let run: Run = child.wait_with_output().unwrap().into();
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let lockfile = cargo_models::Lockfile::load(&ctx.lockfile_path()).unwrap();
    let names: Vec<&str> = lockfile.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn fetch_pins_missing_sizes_unless_locked_and_frozen_is_offline() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(540, 4000);
    server.route("m.bin", body.clone());
    let mut entry = Entry::new("m", &server.url("m.bin"), &body);
    entry.size = None;
    ctx.write_lockfile(&[entry]);
    let before = fs::read_to_string(ctx.lockfile_path()).unwrap();

    let locked = ctx.run(&["fetch", "--locked"]);
    assert_eq!(locked.code, 2, "{}", locked.stderr);
    assert!(
        locked.stderr.contains("pinning the `size` of `m`"),
        "{}",
        locked.stderr
    );
    assert_eq!(fs::read_to_string(ctx.lockfile_path()).unwrap(), before);
    assert_eq!(server.hits("m.bin"), 0);

    let fetched = ctx.run(&["fetch"]);
    assert_eq!(fetched.code, 0, "{}", fetched.stderr);
    let after = fs::read_to_string(ctx.lockfile_path()).unwrap();
    assert!(after.starts_with("# written by a test\n"), "{after}");
    assert!(after.contains("size = 4000"), "{after}");

    let frozen = ctx.run(&["fetch", "--frozen"]);
    assert_eq!(frozen.code, 0, "{}", frozen.stderr);
    fs::remove_dir_all(&ctx.cache).unwrap();
    let frozen = ctx.run(&["fetch", "--frozen"]);
    assert_eq!(frozen.code, 1, "{}", frozen.stderr);
    assert_eq!(
        server.hits("m.bin"),
        1,
        "--frozen never touches the network"
    );
}

#[test]
fn commands_resolve_aliases_hashes_and_file_names() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let a = data(550, 1000);
    let b = data(551, 1000);
    server.route("sd-v1-5.ckpt", a.clone());
    server.route("sd-v2-1.ckpt", b.clone());
    let mut e1 = Entry::new("sd15", &server.url("sd-v1-5.ckpt"), &a);
    let e2 = Entry::new("sd21", &server.url("sd-v2-1.ckpt"), &b);
    e1.path = None;
    ctx.write_lockfile(&[e1, e2]);
    let text = fs::read_to_string(ctx.lockfile_path()).unwrap().replace(
        "name = \"sd15\"\n",
        "name = \"sd15\"\naliases = [\"stable-diffusion\"]\n",
    );
    fs::write(ctx.lockfile_path(), text).unwrap();
    assert_eq!(
        ctx.run(&["fetch", "stable-diffusion", &sha256_hex(&b)[..8]])
            .code,
        0
    );
    let short_a = &sha256_hex(&a)[..10];
    for query in [
        "stable-diffusion",
        short_a,
        "sd-v1-5.ckpt",
        "sd-v1-5",
        &format!("sd15 [{short_a}]"),
        "STABLE",
    ] {
        let run = ctx.run(&["path", query]);
        assert_eq!(run.code, 0, "{query}: {}", run.stderr);
        assert_eq!(
            run.stdout.trim(),
            ctx.blob_path(&a).display().to_string(),
            "{query}"
        );
    }
    let ambiguous = ctx.run(&["path", "sd"]);
    assert_eq!(ambiguous.code, 2);
    insta::assert_snapshot!(
        ctx.redact(&ambiguous.stderr)
            .replace(short_a, "[SHORT_A]")
            .replace(&sha256_hex(&b)[..10], "[SHORT_B]")
    );
}
