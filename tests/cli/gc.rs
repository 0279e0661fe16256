//! `gc` and `cache`: what is removed, what is never removed, and that a dry run removes
//! nothing. These rely on `fetch` recording which lockfile used the cache and when each blob
//! was last used (`usage-v1/`).

use std::fs::{self, File};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use crate::server::{Fault, TestServer};
use crate::{Entry, TestContext, data, sha256_hex};

const DAY: Duration = Duration::from_secs(86400);

/// Serves `bodies` by name, and their entries.
fn served(server: &TestServer, bodies: &[(&str, &[u8])]) -> Vec<Entry> {
    bodies
        .iter()
        .map(|(name, body)| {
            server.route(name, body.to_vec());
            Entry::new(name, &server.url(name), body)
        })
        .collect()
}

/// Serves `bodies` by name, pins them all in the project's lockfile, and fetches them.
fn fetched(ctx: &TestContext, server: &TestServer, bodies: &[(&str, &[u8])]) -> Vec<Entry> {
    let entries = served(server, bodies);
    ctx.write_lockfile(&entries);
    let run = ctx.run(&["fetch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    entries
}

/// Every file the cache keeps for the blob of `data`: the blob, its stamp, provenance and usage
/// marker (lock files aside: gc leaves them).
fn files_of(ctx: &TestContext, data: &[u8]) -> Vec<PathBuf> {
    let key = &sha256_hex(data)[..32];
    ctx.cache_files()
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(key))
        .filter(|p| !p.starts_with(ctx.cache.join("locks-v1")))
        .collect()
}

/// Makes the blob of `data` look last used `ago`: its usage marker's mtime.
fn last_used(ctx: &TestContext, data: &[u8], ago: Duration) {
    let hex = sha256_hex(data);
    let marker = ctx
        .cache
        .join("usage-v1/blobs")
        .join(&hex[..2])
        .join(&hex[..32]);
    File::options()
        .write(true)
        .open(&marker)
        .unwrap_or_else(|e| panic!("fetch records each blob's use at {}: {e}", marker.display()))
        .set_modified(SystemTime::now() - ago)
        .unwrap();
}

/// The cache's files with their contents, to prove a run changed nothing.
fn snapshot_files(ctx: &TestContext) -> Vec<(PathBuf, Vec<u8>)> {
    ctx.cache_files()
        .into_iter()
        .map(|p| {
            let bytes = fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

fn redact_hashes(text: &str, bodies: &[&[u8]]) -> String {
    let mut out = text.to_string();
    for (i, b) in bodies.iter().enumerate() {
        out = out.replace(&sha256_hex(b)[..10], &format!("[SHORT{i}]"));
    }
    out
}

/// The digests `gc --format json` reports as removed.
fn removed(stdout: &str) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_str(stdout).unwrap();
    report["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["sha256"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn only_the_unreferenced_blob_goes_and_a_dry_run_removes_nothing() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let (kept, unused) = (data(300, 100_000), data(301, 50_000));
    let entries = fetched(&ctx, &server, &[("kept", &kept), ("unused", &unused)]);
    ctx.write_lockfile(&entries[..1]);
    assert_eq!(
        files_of(&ctx, &unused).len(),
        4,
        "blob, stamp, sources, usage"
    );

    let before = snapshot_files(&ctx);
    let dry = ctx.run(&["gc", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(snapshot_files(&ctx) == before, "a dry run changes nothing");
    insta::assert_snapshot!(redact_hashes(&dry.stderr, &[&kept, &unused]));

    let run = ctx.run(&["gc"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("Removed 1 blob, 48.8 KiB"),
        "{}",
        run.stderr
    );
    assert!(files_of(&ctx, &unused).is_empty(), "nothing of it is left");
    assert_eq!(files_of(&ctx, &kept).len(), 4);
    assert_eq!(fs::read(ctx.blob_path(&kept)).unwrap(), kept);
    assert_eq!(ctx.assert_cache_invariant(), 1);

    // The kept blob is still a stamped cache hit.
    let again = ctx.run(&["fetch"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(server.hits("kept"), 1);
}

#[test]
fn all_removes_referenced_blobs_too() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let a = data(310, 20_000);
    fetched(&ctx, &server, &[("a", &a)]);
    let run = ctx.run(&["gc", "--all"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(files_of(&ctx, &a).is_empty());
    assert_eq!(ctx.assert_cache_invariant(), 0);

    let again = ctx.run(&["fetch"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(server.hits("a"), 2, "downloaded again");
}

#[test]
fn a_lockfile_deleted_from_disk_stops_protecting_its_blobs() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let (shared, only_here, only_there) = (data(320, 10_000), data(321, 20_000), data(322, 30_000));
    let there = ctx.dir.path().join("other/models.lock");
    fs::create_dir_all(there.parent().unwrap()).unwrap();
    ctx.write_lockfile(&served(
        &server,
        &[("shared", &shared), ("there", &only_there)],
    ));
    fs::rename(ctx.lockfile_path(), &there).unwrap();
    let run = ctx.run(&["--lockfile", there.to_str().unwrap(), "fetch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    fetched(&ctx, &server, &[("shared", &shared), ("here", &only_here)]);

    let info = ctx.run(&["cache", "--format", "json"]);
    let info: serde_json::Value = serde_json::from_str(&info.stdout).unwrap();
    assert_eq!(info["lockfiles"].as_array().unwrap().len(), 2);

    // The project is deleted; gc needs no lockfile to run.
    fs::remove_file(ctx.lockfile_path()).unwrap();
    let run = ctx.run(&["gc"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        ctx.redact(&run.stderr)
            .contains("Forgetting [ROOT]/models.lock (no longer exists)"),
        "{}",
        run.stderr
    );
    assert!(files_of(&ctx, &only_here).is_empty());
    assert!(ctx.blob_path(&shared).exists(), "still pinned by the other");
    assert!(ctx.blob_path(&only_there).exists());

    let info = ctx.run(&["cache", "--format", "json"]);
    let info: serde_json::Value = serde_json::from_str(&info.stdout).unwrap();
    let lockfiles: Vec<&str> = info["lockfiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["path"].as_str().unwrap())
        .collect();
    assert_eq!(lockfiles, [there.to_str().unwrap()]);
}

#[test]
fn older_than_and_max_size_remove_the_least_recently_used_first() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let old = data(330, 100_000);
    let stale = data(331, 200_000);
    let recent = data(332, 300_000);
    let pinned = data(333, 50_000);
    let entries = fetched(
        &ctx,
        &server,
        &[
            ("old", &old),
            ("stale", &stale),
            ("recent", &recent),
            ("pinned", &pinned),
        ],
    );
    ctx.write_lockfile(&entries[3..]);
    last_used(&ctx, &old, 40 * DAY);
    last_used(&ctx, &stale, 10 * DAY);
    last_used(&ctx, &recent, DAY);
    last_used(&ctx, &pinned, 90 * DAY);

    let run = ctx.run(&["gc", "--older-than", "30d", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(removed(&run.stdout), [sha256_hex(&old)]);
    assert!(!ctx.blob_path(&old).exists());

    // 550 000 bytes left, at most 400 000 wanted: `stale` goes (used longer ago), not `recent`
    // (bigger); `pinned`, the least recently used of all, is pinned.
    let run = ctx.run(&["gc", "--max-size", "0.4MB", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(removed(&run.stdout), [sha256_hex(&stale)]);
    for kept in [&recent, &pinned] {
        assert!(ctx.blob_path(kept).exists());
    }

    // A size only the pinned blob could meet: everything else goes, with a warning.
    let run = ctx.run(&["gc", "--max-size", "1KiB"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("above --max-size 1.0 KiB"),
        "{}",
        run.stderr
    );
    assert_eq!(ctx.assert_cache_invariant(), 1);
    assert!(ctx.blob_path(&pinned).exists());
}

#[test]
fn stale_temp_files_are_removed() {
    let ctx = TestContext::new();
    assert_eq!(ctx.run(&["cache"]).code, 0, "creates the cache");
    let key = &sha256_hex(&data(341, 10))[..32];
    let tmp = ctx.cache.join("tmp-v1");
    for name in [
        format!("{key}.partial"),
        format!("{key}.partial.json"),
        "stray-temp-file".to_string(),
    ] {
        fs::write(tmp.join(name), [0u8; 1000]).unwrap();
    }

    let dry = ctx.run(&["gc", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stderr.contains(
            "Would remove 0 blobs and 3 temporary files, 2.9 KiB; kept 0 blobs, 0 B (dry run)"
        ),
        "{}",
        dry.stderr
    );
    assert_eq!(ctx.temp_files().len(), 3);

    let run = ctx.run(&["gc"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(ctx.temp_files().is_empty());
}

#[test]
fn gc_waits_for_a_running_fetch() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(350, 2 << 20);
    server.route_always(
        "m",
        body.clone(),
        Fault::Throttle {
            bytes_per_sec: 1 << 20,
        },
    );
    ctx.write_lockfile(&[Entry::new("m", &server.url("m"), &body)]);
    let fetch = ctx
        .cmd()
        .arg("fetch")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while ctx.temp_files().is_empty() {
        assert!(Instant::now() < deadline, "the download never got going");
        std::thread::sleep(Duration::from_millis(20));
    }

    // Even `--all` does not pull the download from under the fetch: gc waits for it to end.
    let gc = ctx.run(&["gc", "--all"]);
    let fetch = fetch.wait_with_output().unwrap();
    assert_eq!(
        fetch.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fetch.stderr)
    );
    assert_eq!(gc.code, 0, "{}", gc.stderr);
    assert!(
        gc.stderr
            .contains("Blocking waiting for other cargo-models processes using the cache"),
        "{}",
        gc.stderr
    );
    assert_eq!(server.hits("m"), 1);
    assert_eq!(
        ctx.assert_cache_invariant(),
        0,
        "removed once the fetch was done"
    );
}

#[test]
fn cache_prints_location_size_and_blob_count() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let (a, b) = (data(360, 100_000), data(361, 50_000));
    fetched(&ctx, &server, &[("a", &a), ("b", &b)]);
    fs::write(ctx.cache.join("tmp-v1/stray"), [0u8; 4096]).unwrap();

    let run = ctx.run(&["cache"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(ctx.redact(&run.stdout));

    let json = ctx.run(&["cache", "--format", "json"]);
    let info: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(info["blobs"], 2);
    assert_eq!(info["bytes"], 150_000);
    assert_eq!(info["root"], ctx.cache.to_str().unwrap());
}

#[test]
fn sizes_and_ages_are_checked() {
    let ctx = TestContext::new();
    for args in [["--max-size", "12XB"], ["--older-than", "30y"]] {
        let run = ctx.run(&["gc", args[0], args[1]]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("expected"), "{}", run.stderr);
    }
}
