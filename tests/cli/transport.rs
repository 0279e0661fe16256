//! Transport: resume, validators, credentials across redirects, hostile lengths, provenance,
//! proxies.

use std::fs;

use crate::server::{Fault, TestServer};
use crate::{Entry, Run, TestContext, data};

const MB: usize = 1 << 20;

fn tagged(tag: &str, fault: Fault) -> Fault {
    Fault::Tagged(format!("\"{tag}\""), Box::new(fault))
}

fn ranges(server: &TestServer, path: &str) -> Vec<Option<String>> {
    server
        .requests()
        .iter()
        .filter(|r| r.path.trim_start_matches('/') == path)
        .map(|r| r.header("range").map(str::to_string))
        .collect()
}

#[test]
fn a_broken_transfer_resumes_and_only_the_missing_bytes_are_sent_again() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(300, 3 * MB);
    server.route_with(
        "m",
        body.clone(),
        vec![
            tagged("v1", Fault::Truncate { at: MB }),
            tagged("v1", Fault::Truncate { at: MB / 2 }),
            tagged("v1", Fault::None),
        ],
    );
    ctx.write_lockfile(&[Entry::new("m", &server.url("m"), &body)]);
    let run = ctx.run(&["fetch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        ranges(&server, "m"),
        [
            None,
            Some(format!("bytes={MB}-")),
            Some(format!("bytes={}-", MB + MB / 2))
        ]
    );
    let if_range: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.header("if-range").map(str::to_string))
        .collect();
    assert_eq!(
        if_range,
        [None, Some("\"v1\"".into()), Some("\"v1\"".into())]
    );
    assert_eq!(fs::read(ctx.blob_path(&body)).unwrap(), body);
    assert_eq!(ctx.assert_cache_invariant(), 1);
    assert!(ctx.temp_files().is_empty());
}

#[test]
fn a_server_that_ignores_range_restarts_from_zero() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(301, 2 * MB);
    server.route_with(
        "m",
        body.clone(),
        vec![
            tagged("v1", Fault::Truncate { at: MB }),
            tagged("v1", Fault::IgnoreRange),
        ],
    );
    ctx.write_lockfile(&[Entry::new("m", &server.url("m"), &body)]);
    let run = ctx.run(&["fetch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(ranges(&server, "m"), [None, Some(format!("bytes={MB}-"))]);
    assert_eq!(fs::read(ctx.blob_path(&body)).unwrap(), body);
    ctx.assert_cache_invariant();
}

#[test]
fn a_changed_etag_restarts_from_zero() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(302, 2 * MB);
    server.route_with(
        "m",
        body.clone(),
        vec![
            tagged("v1", Fault::Truncate { at: MB }),
            tagged("v2", Fault::None),
        ],
    );
    ctx.write_lockfile(&[Entry::new("m", &server.url("m"), &body)]);
    let run = ctx.run(&["fetch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let second = &server.requests()[1];
    assert_eq!(second.header("if-range"), Some("\"v1\""));
    assert_eq!(fs::read(ctx.blob_path(&body)).unwrap(), body);
    ctx.assert_cache_invariant();
}

#[test]
fn a_killed_fetch_is_resumed_by_the_next_run() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(303, 4 * MB);
    server.route_with(
        "m",
        body.clone(),
        vec![
            tagged(
                "v1",
                Fault::Throttle {
                    bytes_per_sec: 2 * MB as u64,
                },
            ),
            tagged("v1", Fault::None),
        ],
    );
    ctx.write_lockfile(&[Entry::new("m", &server.url("m"), &body)]);
    ctx.fetch_and_kill_after(MB as u64);
    assert_eq!(ctx.assert_cache_invariant(), 0);

    let run = ctx.run(&["fetch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("Resuming m from"), "{}", run.stderr);
    let second = ranges(&server, "m")[1]
        .clone()
        .expect("the second run asked for a range");
    let start: usize = second
        .trim_start_matches("bytes=")
        .trim_end_matches('-')
        .parse()
        .unwrap();
    assert!(start >= MB, "resumed from {start}");
    assert_eq!(fs::read(ctx.blob_path(&body)).unwrap(), body);
    assert_eq!(ctx.assert_cache_invariant(), 1);
    assert!(ctx.temp_files().is_empty());
}

#[test]
fn credentials_reach_only_their_host_and_never_cross_a_redirect() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let other = TestServer::start_on("127.0.0.2");
    let body = data(304, 100_000);
    other.route("real", body.clone());
    server.route_always("m", vec![], Fault::Redirect(other.url("real")));
    let netrc = ctx.dir.path().join("netrc");
    fs::write(
        &netrc,
        "machine 127.0.0.1 login alice password \"pw-secret\"\n",
    )
    .unwrap();
    ctx.write_lockfile(&[Entry::new("m", &server.url("m"), &body)]);
    let mut runs = Vec::new();
    for format in ["human", "json"] {
        let _ = fs::remove_dir_all(&ctx.cache);
        let run: Run = ctx
            .cmd()
            .args(["fetch", "-v", "--message-format", format])
            .env("NETRC", &netrc)
            .env(
                "CARGO_MODELS_AUTH_HEADER_127_0_0_1",
                "X-Api-Key: key-secret",
            )
            .env("HF_TOKEN", "hf-secret")
            .env("HF_ENDPOINT", server.url(""))
            .output()
            .unwrap()
            .into();
        assert_eq!(run.code, 0, "{}", run.stderr);
        runs.push(run);
    }
    let first = &server.requests()[0];
    assert_eq!(first.header("x-api-key"), Some("key-secret"));
    assert_eq!(
        first.header("authorization"),
        Some("Bearer hf-secret"),
        "HF_TOKEN wins over netrc for the HF endpoint"
    );
    for r in other.requests() {
        assert!(r.header("authorization").is_none(), "{r:?}");
        assert!(r.header("x-api-key").is_none(), "{r:?}");
    }
    for run in &runs {
        for secret in ["pw-secret", "key-secret", "hf-secret"] {
            assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
        }
    }
    ctx.assert_cache_invariant();
}

#[test]
fn netrc_basic_auth_is_sent_to_its_machine() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(305, 1000);
    server.route("m", body.clone());
    let netrc = ctx.dir.path().join("netrc");
    fs::write(
        &netrc,
        "# team mirror\nmachine 127.0.0.1\n  login alice\n  password \"p w\"\n",
    )
    .unwrap();
    ctx.write_lockfile(&[Entry::new("m", &server.url("m"), &body)]);
    let run: Run = ctx
        .cmd()
        .arg("fetch")
        .env("NETRC", &netrc)
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    // base64("alice:p w")
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some("Basic YWxpY2U6cCB3")
    );
    ctx.assert_cache_invariant();
}

#[test]
fn a_content_length_lie_in_either_direction_fails_before_the_body() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(306, 100_000);
    server.route_always("short", body.clone(), Fault::LieContentLength(50_000));
    server.route_always(
        "long",
        body.clone(),
        Fault::LieContentLength(10_000_000_000),
    );
    ctx.write_lockfile(&[
        Entry::new("short", &server.url("short"), &body),
        Entry::new("long", &server.url("long"), &body),
    ]);
    let run = ctx.run(&["fetch", "-j", "1"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!((server.hits("short"), server.hits("long")), (1, 1));
    assert!(
        run.stderr
            .contains("server announced 50000 bytes (not downloaded)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("server announced 10000000000 bytes (not downloaded)"),
        "{}",
        run.stderr
    );
    assert_eq!(ctx.assert_cache_invariant(), 0);
}

#[test]
fn retry_after_is_capped_and_redirect_loops_end() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(307, 1000);
    server.route_with(
        "slow",
        body.clone(),
        vec![Fault::Status(
            503,
            vec![("Retry-After".into(), "3600".into())],
        )],
    );
    server.route_always("loop", vec![], Fault::Redirect(server.url("loop")));
    ctx.write_lockfile(&[
        Entry::new("slow", &server.url("slow"), &body),
        Entry::new("loop", &server.url("loop"), &data(308, 10)),
    ]);
    let run = ctx.run(&[
        "fetch",
        "--max-retry-after",
        "0.2",
        "--max-redirects",
        "3",
        "--retries",
        "1",
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("retrying in 0.2s"), "{}", run.stderr);
    assert!(ctx.blob_path(&body).exists());
    assert!(
        run.stderr.contains("more than 3 redirects"),
        "{}",
        run.stderr
    );
    assert_eq!(server.hits("loop"), 8, "4 requests per attempt, 2 attempts");
    ctx.assert_cache_invariant();
}

#[test]
fn a_url_that_never_served_the_cached_file_is_flagged_and_can_be_proven() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(309, 200_000);
    server.route("old", body.clone());
    server.route("new", body.clone());
    server.route("evil", data(310, 200_000));
    ctx.write_lockfile(&[Entry::new("m", &server.url("old"), &body)]);
    assert_eq!(ctx.run(&["fetch"]).code, 0);

    // Someone edits the URL and keeps the hash: the cache alone would answer.
    ctx.write_lockfile(&[Entry::new("m", &server.url("evil"), &body)]);
    let warned = ctx.run(&["fetch"]);
    assert_eq!(warned.code, 0, "{}", warned.stderr);
    assert!(
        warned
            .stderr
            .contains("has never been seen serving the pinned file"),
        "{}",
        warned.stderr
    );
    assert_eq!(server.hits("evil"), 0);

    let checked: Run = ctx
        .cmd()
        .arg("fetch")
        .env("CI", "true")
        .output()
        .unwrap()
        .into();
    assert_eq!(checked.code, 1, "{}", checked.stderr);
    assert!(
        checked
            .stderr
            .contains("its `url` does not serve the pinned file"),
        "{}",
        checked.stderr
    );
    assert_eq!(server.hits("evil"), 1);
    assert_eq!(
        fs::read(ctx.blob_path(&body)).unwrap(),
        body,
        "the cached file is kept"
    );

    ctx.write_lockfile(&[Entry::new("m", &server.url("new"), &body)]);
    let proven = ctx.run(&["fetch", "--check-sources"]);
    assert_eq!(proven.code, 0, "{}", proven.stderr);
    assert!(proven.stderr.contains("Checked"), "{}", proven.stderr);
    let quiet = ctx.run(&["fetch", "--check-sources"]);
    assert!(
        !quiet.stderr.contains("never been seen"),
        "{}",
        quiet.stderr
    );
    assert_eq!(
        server.hits("new"),
        1,
        "a proven source is not downloaded again"
    );
    ctx.assert_cache_invariant();
}

#[test]
fn proxies_from_the_environment_are_used() {
    let ctx = TestContext::new();
    let proxy = TestServer::start();
    let body = data(311, 1000);
    proxy.route("m.bin", body.clone());
    ctx.write_lockfile(&[Entry::new("m", "http://models.invalid/m.bin", &body)]);
    let run: Run = ctx
        .cmd()
        .arg("fetch")
        .env("HTTP_PROXY", proxy.url(""))
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(proxy.hits("m.bin"), 1);
    ctx.assert_cache_invariant();
}

#[test]
fn a_password_in_the_url_and_a_netrc_default_stay_with_their_host() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let other = TestServer::start_on("127.0.0.2");
    let body = data(312, 10_000);
    other.route("real", body.clone());
    server.route_always("m", vec![], Fault::Redirect(other.url("real")));
    server.route_always("n", vec![], Fault::Redirect(other.url("real")));
    let with_password = server
        .url("m")
        .replace("http://", "http://user:url-secret@");
    let netrc = ctx.dir.path().join("netrc");
    fs::write(&netrc, "default login anon password default-secret\n").unwrap();
    let second = Entry::new("n", &server.url("n"), &body);
    ctx.write_lockfile(&[Entry::new("m", &with_password, &body)]);
    let run: Run = ctx
        .cmd()
        .args(["fetch", "-v"])
        .env("NETRC", &netrc)
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let first = &server.requests()[0];
    // base64("user:url-secret")
    assert_eq!(
        first.header("authorization"),
        Some("Basic dXNlcjp1cmwtc2VjcmV0")
    );
    for r in other.requests() {
        assert!(r.header("authorization").is_none(), "{r:?}");
    }
    let listed = ctx.run(&["list", "--format", "json"]);
    for text in [&run.stdout, &run.stderr, &listed.stdout] {
        assert!(
            !text.contains("url-secret") && !text.contains("default-secret"),
            "{text}"
        );
    }
    assert!(listed.stdout.contains("user:****@"), "{}", listed.stdout);
    let cached: String = ctx
        .cache_files()
        .iter()
        .filter_map(|p| fs::read_to_string(p).ok())
        .collect();
    assert!(
        !cached.contains("url-secret"),
        "no password is stored in the cache"
    );

    // A netrc `default` is for the hosts the user named, not for where they redirect.
    fs::remove_dir_all(&ctx.cache).unwrap();
    ctx.write_lockfile(&[second]);
    let run: Run = ctx
        .cmd()
        .arg("fetch")
        .env("NETRC", &netrc)
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let to_n: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/n"))
        .collect();
    assert_eq!(to_n.len(), 1);
    assert_eq!(
        to_n[0].header("authorization"),
        Some("Basic YW5vbjpkZWZhdWx0LXNlY3JldA==")
    );
    for r in other.requests() {
        assert!(r.header("authorization").is_none(), "{r:?}");
    }
    ctx.assert_cache_invariant();
}

#[test]
fn without_a_validator_a_broken_transfer_starts_over_instead_of_splicing() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(313, 2 * MB);
    server.route_with("m", body.clone(), vec![Fault::Truncate { at: MB }]);
    ctx.write_lockfile(&[Entry::new("m", &server.url("m"), &body)]);
    let run = ctx.run(&["fetch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(ranges(&server, "m"), [None, None]);
    assert_eq!(fs::read(ctx.blob_path(&body)).unwrap(), body);
    ctx.assert_cache_invariant();
}
