//! `verify`, `list`, `path`, and the library API used by tests and build scripts.

use std::fs;

use crate::fetch::make_writable;
use crate::server::TestServer;
use crate::{Entry, TestContext, data, sha256_hex};

/// A project with three entries: `ok` fetched, `broken` fetched then corrupted, `absent` never
/// fetched.
fn three_states() -> (TestContext, TestServer, Vec<Vec<u8>>) {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let bodies = vec![data(200, 300_000), data(201, 200_000), data(202, 100_000)];
    for (name, body) in ["ok", "broken", "absent"].iter().zip(&bodies) {
        server.route(name, body.clone());
    }
    let entries: Vec<Entry> = ["ok", "broken", "absent"]
        .iter()
        .zip(&bodies)
        .map(|(n, b)| Entry::new(n, &server.url(n), b))
        .collect();
    ctx.write_lockfile(&entries[..2]);
    assert_eq!(ctx.run(&["fetch"]).code, 0);
    ctx.write_lockfile(&entries);
    let blob = ctx.blob_path(&bodies[1]);
    make_writable(&blob);
    fs::write(&blob, b"garbage").unwrap();
    (ctx, server, bodies)
}

fn redact_hashes(text: &str, bodies: &[Vec<u8>]) -> String {
    let mut out = text.to_string();
    for (i, b) in bodies.iter().enumerate() {
        let hex = sha256_hex(b);
        out = out.replace(&hex, &format!("[HASH{i}]"));
        out = out.replace(&hex[..10], &format!("[SHORT{i}]"));
    }
    out.replace(&sha256_hex(b"garbage"), "[GARBAGE]")
}

#[test]
fn verify_reports_ok_missing_and_corrupt_and_removes_corrupt_blobs() {
    let (ctx, server, bodies) = three_states();
    let run = ctx.run(&["verify", "-j", "1"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!ctx.blob_path(&bodies[1]).exists(), "corrupt blob removed");
    assert!(ctx.blob_path(&bodies[0]).exists());
    assert_eq!(ctx.assert_cache_invariant(), 1);
    assert_eq!(server.requests().len(), 2, "verify never downloads");
    insta::assert_snapshot!(redact_hashes(&ctx.redact(&run.stderr), &bodies));

    let only_ok = ctx.run(&["verify", "ok"]);
    assert_eq!(only_ok.code, 0, "{}", only_ok.stderr);
}

#[test]
fn list_shows_cache_state() {
    let (ctx, _server, bodies) = three_states();
    let run = ctx.run(&["list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(redact_hashes(&run.stdout, &bodies));
    let json = ctx.run(&["list", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let states: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["cached", "unverified", "missing"]);
    assert_eq!(rows[0]["sha256"], sha256_hex(&bodies[0]));
}

#[test]
fn path_prints_verified_files_only() {
    let (ctx, _server, bodies) = three_states();
    let ok = ctx.run(&["path", "ok"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert_eq!(
        ok.stdout.trim(),
        ctx.blob_path(&bodies[0]).display().to_string()
    );

    let absent = ctx.run(&["path", "absent"]);
    assert_eq!(absent.code, 1);
    assert_eq!(
        absent.stderr.trim(),
        "error: model `absent` is not fetched; run `cargo models fetch`"
    );

    let broken = ctx.run(&["path", "broken"]);
    assert_eq!(broken.code, 1);
    assert!(
        broken.stderr.contains("was corrupt in the cache"),
        "{}",
        broken.stderr
    );
    assert!(!ctx.blob_path(&bodies[1]).exists());

    let typo = ctx.run(&["path", "okk"]);
    assert_eq!(typo.code, 2);
    insta::assert_snapshot!(ctx.redact(&typo.stderr));
}

#[test]
fn library_api_gives_verified_paths_and_never_downloads() {
    let (ctx, server, bodies) = three_states();
    let project = cargo_models::Project::open(&ctx.lockfile_path(), &ctx.cache).unwrap();
    assert_eq!(project.model_path("ok").unwrap(), ctx.blob_path(&bodies[0]));
    let err = project.model_path("absent").unwrap_err();
    assert_eq!(
        err.to_string(),
        "model `absent` is not fetched; run `cargo models fetch`"
    );
    assert_eq!(err.kind(), cargo_models::ErrorKind::Integrity);
    assert!(project.model_path("broken").is_err());
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn build_helper_prints_cargo_directives() {
    let (ctx, _server, bodies) = three_states();
    let project = cargo_models::Project::open(&ctx.lockfile_path(), &ctx.cache).unwrap();
    let mut out = Vec::new();
    let paths = cargo_models::build::Require::new(&["ok"])
        .run_in(&project, &mut out)
        .unwrap();
    assert_eq!(paths, [ctx.blob_path(&bodies[0])]);
    let text = ctx.redact(&String::from_utf8(out).unwrap());
    insta::assert_snapshot!(redact_hashes(&text, &bodies));

    let err = cargo_models::build::Require::new(&["absent"])
        .run_in(&project, &mut Vec::new())
        .unwrap_err();
    assert!(err.to_string().contains("run `cargo models fetch`"));
}
