//! `fetch` against a faulty server: what ends up in the cache, and what the user reads.

use std::fs;
use std::time::{Duration, Instant};

use crate::server::{Fault, TestServer};
use crate::{Entry, TestContext, data, sha256_hex};

const MB: usize = 1 << 20;

#[test]
fn downloads_verifies_links_and_then_hits_the_cache() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(1, 3 * MB);
    server.route("m.bin", body.clone());
    let mut entry = Entry::new("m", &server.url("m.bin"), &body);
    entry.path = Some("models/m.bin".into());
    ctx.write_lockfile(&[entry]);

    let run = ctx.run(&["fetch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fs::read(ctx.blob_path(&body)).unwrap(), body);
    assert_eq!(fs::read(ctx.project.join("models/m.bin")).unwrap(), body);
    assert_eq!(ctx.assert_cache_invariant(), 1);
    assert!(ctx.temp_files().is_empty());
    let perms = fs::metadata(ctx.blob_path(&body)).unwrap().permissions();
    assert!(perms.readonly());

    let again = ctx.run(&["fetch"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        server.hits("m.bin"),
        1,
        "a stamped blob is not downloaded again"
    );
    insta::assert_snapshot!(ctx.redact(&again.stderr), @"    Finished 1 model in [TIME]: 0 downloaded (0 B), 1 cached");
}

#[test]
fn wrong_bytes_are_a_hash_mismatch_and_never_cached() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let good = data(2, MB);
    let good2 = data(4, MB);
    let other = data(3, 1000);
    server.route_always("bad.bin", good.clone(), Fault::Corrupt { at: 12345 });
    server.route("good.bin", good2.clone());
    server.route("swapped.bin", other.clone());
    let mut swapped = Entry::new("swapped", &server.url("swapped.bin"), &data(5, 77));
    swapped.size = None;
    ctx.write_lockfile(&[
        Entry::new("bad", &server.url("bad.bin"), &good),
        Entry::new("good", &server.url("good.bin"), &good2),
        swapped,
    ]);

    // One job, so that the output order is the lockfile's.
    let run = ctx.run(&["fetch", "-j", "1"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        ctx.blob_path(&good2).exists(),
        "one failing entry does not stop the others"
    );
    assert!(!ctx.blob_path(&good).exists());
    assert!(!ctx.blob_path(&other).exists());
    assert_eq!(ctx.assert_cache_invariant(), 1);
    assert!(ctx.temp_files().is_empty(), "{:?}", ctx.temp_files());
    assert_eq!(
        server.hits("bad.bin"),
        1,
        "a mismatch is an answer, not retried"
    );
    let mut corrupted = good.clone();
    corrupted[12345] ^= 0xff;
    let stderr = ctx
        .redact(&run.stderr)
        .replace(&sha256_hex(&good), "[EXPECTED]")
        .replace(&sha256_hex(&corrupted), "[ACTUAL]")
        .replace(&sha256_hex(&data(5, 77)), "[PINNED]")
        .replace(&sha256_hex(&other), "[OTHER]");
    insta::assert_snapshot!(stderr);
}

#[test]
fn a_truncated_transfer_is_retried() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(6, 2 * MB);
    server.route_with("m.bin", body.clone(), vec![Fault::Truncate { at: MB }]);
    ctx.write_lockfile(&[Entry::new("m", &server.url("m.bin"), &body)]);
    let run = ctx.run(&["fetch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(server.hits("m.bin"), 2);
    assert!(run.stderr.contains("retrying"), "{}", run.stderr);
    assert_eq!(fs::read(ctx.blob_path(&body)).unwrap(), body);
    assert!(ctx.temp_files().is_empty());
}

#[test]
fn a_transfer_that_always_breaks_fails_after_the_retries_and_caches_nothing() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(7, MB);
    server.route_always("m.bin", body.clone(), Fault::Truncate { at: 1000 });
    ctx.write_lockfile(&[Entry::new("m", &server.url("m.bin"), &body)]);
    let run = ctx.run(&["fetch", "--retries", "2"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(server.hits("m.bin"), 3);
    assert!(
        run.stderr.contains("could not download `m`"),
        "{}",
        run.stderr
    );
    assert_eq!(ctx.assert_cache_invariant(), 0);
    // What arrived is kept, unnamed by its hash, for a later run to resume.
    assert!(
        ctx.temp_files()
            .iter()
            .all(|p| p.to_string_lossy().contains(".partial"))
    );
}

#[test]
fn server_errors_are_retried_and_429_retry_after_is_honoured() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let a = data(8, 100_000);
    let b = data(9, 100_000);
    server.route_with(
        "a",
        a.clone(),
        vec![Fault::Status(500, vec![]), Fault::Status(503, vec![])],
    );
    server.route_with(
        "b",
        b.clone(),
        vec![Fault::Status(429, vec![("Retry-After".into(), "1".into())])],
    );
    ctx.write_lockfile(&[
        Entry::new("a", &server.url("a"), &a),
        Entry::new("b", &server.url("b"), &b),
    ]);
    let start = Instant::now();
    let run = ctx.run(&["fetch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "Retry-After: 1 was not waited for"
    );
    assert_eq!((server.hits("a"), server.hits("b")), (3, 2));
    assert!(
        run.stderr
            .contains("HTTP 429 Too Many Requests; retrying in 1.0s"),
        "{}",
        run.stderr
    );
    assert!(ctx.blob_path(&a).exists() && ctx.blob_path(&b).exists());
}

#[test]
fn client_errors_are_not_retried_and_say_what_to_check() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(10, 1000);
    server.route_always("private", body.clone(), Fault::Status(403, vec![]));
    ctx.write_lockfile(&[
        Entry::new("missing", &server.url("nope"), &data(11, 10)),
        Entry::new("private", &server.url("private"), &body),
    ]);
    let run = ctx.run(&["fetch", "-j", "1"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!((server.hits("nope"), server.hits("private")), (1, 1));
    insta::assert_snapshot!(
        ctx.redact(&run.stderr)
            .replace(&sha256_hex(&body), "[HASH1]")
            .replace(&sha256_hex(&data(11, 10)), "[HASH2]")
    );
}

#[test]
fn a_stalled_server_hits_the_idle_timeout_and_the_retry_succeeds() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(12, MB);
    server.route_with(
        "m",
        body.clone(),
        vec![Fault::Stall {
            after: 1000,
            secs: 30,
        }],
    );
    ctx.write_lockfile(&[Entry::new("m", &server.url("m"), &body)]);
    let run = ctx.run(&["fetch", "--read-timeout", "0.5"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(server.hits("m"), 2);
    assert!(run.stderr.contains("timed out"), "{}", run.stderr);
    assert_eq!(fs::read(ctx.blob_path(&body)).unwrap(), body);
}

#[test]
fn redirects_are_followed() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let other = TestServer::start_on("127.0.0.2");
    let body = data(13, 50_000);
    other.route("real", body.clone());
    server.route_always("old", vec![], Fault::Redirect(other.url("real")));
    ctx.write_lockfile(&[Entry::new("m", &server.url("old"), &body)]);
    let run = ctx.run(&["fetch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!((server.hits("old"), other.hits("real")), (1, 1));
    assert!(ctx.blob_path(&body).exists());
}

#[test]
fn more_bytes_than_pinned_fail_before_or_at_size_plus_one() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(14, 200_000);
    let mut longer = body.clone();
    longer.extend_from_slice(&data(15, 5 * MB));
    // Announced too long: refused before the body is read.
    server.route_always("announced", body.clone(), Fault::ExtraBytes(10));
    // Not announced (close-delimited): reading stops at size + 1.
    server.route_always("unannounced", longer, Fault::NoContentLength);
    ctx.write_lockfile(&[
        Entry::new("announced", &server.url("announced"), &body),
        Entry::new(
            "unannounced",
            &server.url("unannounced"),
            &data(16, 200_000),
        ),
    ]);
    let run = ctx.run(&["fetch", "--message-format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(ctx.assert_cache_invariant(), 0);
    assert!(ctx.temp_files().is_empty());
    let failures: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["reason"] == "model-failed")
        .collect();
    let kind_of = |name: &str| {
        failures
            .iter()
            .find(|v| v["name"] == name)
            .map(|v| v["error"]["attempts"][0]["error"].clone())
            .unwrap()
    };
    assert_eq!(kind_of("announced")["kind"], "announced");
    assert_eq!(kind_of("announced")["length"], 200_010);
    assert_eq!(kind_of("unannounced")["kind"], "too-long");
    assert_eq!(kind_of("unannounced")["limit"], 200_000);
}

#[test]
fn a_wrong_url_falls_back_to_the_next_mirror() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(17, 300_000);
    server.route("primary", data(18, 300_000));
    server.route("mirror", body.clone());
    let mut entry = Entry::new("m", &server.url("primary"), &body);
    entry.mirrors = vec![server.url("down"), server.url("mirror")];
    ctx.write_lockfile(&[entry]);
    let run = ctx.run(&["fetch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        (
            server.hits("primary"),
            server.hits("down"),
            server.hits("mirror")
        ),
        (1, 1, 1)
    );
    assert!(
        run.stderr.contains("trying the next source"),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read(ctx.blob_path(&body)).unwrap(), body);
}

#[test]
fn offline_never_touches_the_network_and_lists_what_is_missing() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let a = data(19, 1000);
    let b = data(20, 1000);
    server.route("a", a.clone());
    server.route("b", b.clone());
    ctx.write_lockfile(&[Entry::new("a", &server.url("a"), &a)]);
    assert_eq!(ctx.run(&["fetch"]).code, 0);
    ctx.write_lockfile(&[
        Entry::new("a", &server.url("a"), &a),
        Entry::new("b", &server.url("b"), &b),
    ]);
    let run = ctx.run(&["fetch", "--offline"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let env_run: crate::Run = ctx
        .cmd()
        .arg("fetch")
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .unwrap()
        .into();
    assert_eq!(env_run.code, 1, "{}", env_run.stderr);
    assert_eq!((server.hits("a"), server.hits("b")), (1, 0));
    insta::assert_snapshot!(
        ctx.redact(&run.stderr)
            .replace(&sha256_hex(&b)[..10], "[SHORT]")
    );
}

#[test]
fn a_corrupted_cached_blob_is_detected_removed_and_fetched_again() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(21, MB);
    server.route("m", body.clone());
    ctx.write_lockfile(&[Entry::new("m", &server.url("m"), &body)]);
    assert_eq!(ctx.run(&["fetch"]).code, 0);

    // A sync tool truncates the file (the mtime changes with it).
    let blob = ctx.blob_path(&body);
    make_writable(&blob);
    fs::write(&blob, &body[..1000]).unwrap();
    let run = ctx.run(&["fetch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("warning: `m`: the cached file was corrupt"),
        "{}",
        run.stderr
    );
    assert_eq!(server.hits("m"), 2);
    assert_eq!(fs::read(&blob).unwrap(), body);
    assert_eq!(ctx.assert_cache_invariant(), 1);
}

#[test]
fn a_stale_stamp_is_rehashed_without_downloading() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(22, MB);
    server.route("m", body.clone());
    ctx.write_lockfile(&[Entry::new("m", &server.url("m"), &body)]);
    assert_eq!(ctx.run(&["fetch"]).code, 0);
    let blob = ctx.blob_path(&body);
    let f = fs::File::open(&blob).unwrap();
    f.set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    let run = ctx.run(&["fetch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("Verified m"), "{}", run.stderr);
    assert_eq!(server.hits("m"), 1);
}

#[test]
fn verify_full_catches_corruption_that_keeps_size_and_mtime() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(23, MB);
    server.route("m", body.clone());
    ctx.write_lockfile(&[Entry::new("m", &server.url("m"), &body)]);
    assert_eq!(ctx.run(&["fetch"]).code, 0);
    let blob = ctx.blob_path(&body);
    let mtime = fs::metadata(&blob).unwrap().modified().unwrap();
    make_writable(&blob);
    let mut flipped = body.clone();
    flipped[500] ^= 1;
    fs::write(&blob, &flipped).unwrap();
    fs::File::options()
        .write(true)
        .open(&blob)
        .unwrap()
        .set_modified(mtime)
        .unwrap();

    // The stamp cannot see this (same size, mtime, inode) ...
    assert_eq!(ctx.run(&["fetch"]).code, 0);
    assert_eq!(server.hits("m"), 1);
    // ... a full verify can.
    let run = ctx.run(&["fetch", "--verify", "full"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("the cached file was corrupt"),
        "{}",
        run.stderr
    );
    assert_eq!(server.hits("m"), 2);
    assert_eq!(fs::read(&blob).unwrap(), body);
}

#[test]
fn a_path_that_is_not_ours_needs_force() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(24, 1000);
    server.route("m", body.clone());
    let mut entry = Entry::new("m", &server.url("m"), &body);
    entry.path = Some("weights/m.bin".into());
    ctx.write_lockfile(&[entry]);
    let target = ctx.project.join("weights/m.bin");
    fs::create_dir_all(target.parent().unwrap()).unwrap();
    fs::write(&target, b"my own file").unwrap();

    let run = ctx.run(&["fetch"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(fs::read(&target).unwrap(), b"my own file");
    assert!(
        ctx.blob_path(&body).exists(),
        "the blob is cached even if linking fails"
    );
    insta::assert_snapshot!(ctx.redact(&run.stderr));

    let forced = ctx.run(&["fetch", "--force"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_eq!(fs::read(&target).unwrap(), body);
}

#[test]
fn a_link_to_an_older_blob_is_replaced_when_the_pin_changes() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let v1 = data(25, 1000);
    let v2 = data(26, 1000);
    server.route("v1", v1.clone());
    server.route("v2", v2.clone());
    let mut entry = Entry::new("m", &server.url("v1"), &v1);
    entry.path = Some("m.bin".into());
    ctx.write_lockfile(std::slice::from_ref(&entry));
    assert_eq!(ctx.run(&["fetch"]).code, 0);
    let mut entry2 = Entry::new("m", &server.url("v2"), &v2);
    entry2.path = entry.path.clone();
    ctx.write_lockfile(&[entry2]);
    let run = ctx.run(&["fetch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fs::read(ctx.project.join("m.bin")).unwrap(), v2);
    assert_eq!(
        fs::read(ctx.blob_path(&v1)).unwrap(),
        v1,
        "the old blob is untouched"
    );
}

#[test]
fn file_urls_are_hashed_and_copied_never_linked() {
    let ctx = TestContext::new();
    let body = data(27, 500_000);
    let src = ctx.dir.path().join("share/m.bin");
    fs::create_dir_all(src.parent().unwrap()).unwrap();
    fs::write(&src, &body).unwrap();
    let url = url::Url::from_file_path(&src).unwrap();
    ctx.write_lockfile(&[Entry::new("m", url.as_str(), &body)]);
    let run = ctx.run(&["fetch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let blob = ctx.blob_path(&body);
    assert_eq!(fs::read(&blob).unwrap(), body);
    use std::os::unix::fs::MetadataExt;
    assert_ne!(
        fs::metadata(&blob).unwrap().ino(),
        fs::metadata(&src).unwrap().ino()
    );
}

#[test]
fn json_events_describe_the_run() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(28, 10_000);
    server.route("m", body.clone());
    ctx.write_lockfile(&[Entry::new("m", &server.url("m"), &body)]);
    let run = ctx.run(&["fetch", "--message-format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let reasons: Vec<String> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["reason"].to_string())
        .collect();
    assert_eq!(
        reasons,
        [
            "\"plan\"",
            "\"warning\"",
            "\"download-started\"",
            "\"model-ready\"",
            "\"finished\""
        ]
    );
    let ready: serde_json::Value =
        serde_json::from_str(run.stdout.lines().nth(3).unwrap()).unwrap();
    assert_eq!(ready["sha256"], sha256_hex(&body));
    assert_eq!(ready["how"], "downloaded");
    assert_eq!(ready["size"], 10_000);
}

#[test]
fn cargo_subcommand_form_works() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(29, 1000);
    server.route("m", body.clone());
    ctx.write_lockfile(&[Entry::new("m", &server.url("m"), &body)]);
    let run = ctx.run(&["models", "fetch", "m"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(ctx.blob_path(&body).exists());
}

pub fn make_writable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o644)).unwrap();
}
