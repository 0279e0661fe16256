//! Many processes, one cache: each blob is downloaded once; a killed fetch leaves nothing
//! that could be mistaken for a verified file.

use std::fs;
use std::process::{Child, Stdio};

use crate::server::{Fault, TestServer};
use crate::{Entry, Run, TestContext, data};

#[test]
fn eight_processes_download_each_blob_once() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let a = data(100, 3 << 20);
    let b = data(101, 2 << 20);
    // Slow enough that the processes overlap.
    server.route_always(
        "a",
        a.clone(),
        Fault::Throttle {
            bytes_per_sec: 6 << 20,
        },
    );
    server.route_always(
        "b",
        b.clone(),
        Fault::Throttle {
            bytes_per_sec: 6 << 20,
        },
    );
    ctx.write_lockfile(&[
        Entry::new("a", &server.url("a"), &a),
        Entry::new("b", &server.url("b"), &b),
    ]);
    let children: Vec<Child> = (0..8)
        .map(|_| {
            ctx.cmd()
                .arg("fetch")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let runs: Vec<Run> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap().into())
        .collect();
    for run in &runs {
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    assert_eq!((server.hits("a"), server.hits("b")), (1, 1));
    assert!(
        runs.iter().any(|r| r
            .stderr
            .contains("waiting for another process downloading `a`")),
        "no process reported waiting"
    );
    assert_eq!(fs::read(ctx.blob_path(&a)).unwrap(), a);
    assert_eq!(fs::read(ctx.blob_path(&b)).unwrap(), b);
    assert_eq!(ctx.assert_cache_invariant(), 2);
    assert!(ctx.temp_files().is_empty());
}

#[test]
fn a_fetch_killed_mid_download_leaves_no_blob_and_the_next_one_succeeds() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(102, 4 << 20);
    server.route_with(
        "m",
        body.clone(),
        vec![Fault::Throttle {
            bytes_per_sec: 1 << 20,
        }],
    );
    ctx.write_lockfile(&[Entry::new("m", &server.url("m"), &body)]);
    ctx.fetch_and_kill_after(1);
    assert_eq!(
        ctx.assert_cache_invariant(),
        0,
        "nothing half-written under a final name"
    );
    assert!(!ctx.blob_path(&body).exists());
    assert!(
        !ctx.temp_files().is_empty(),
        "the partial download stays in the temp folder"
    );

    let run = ctx.run(&["fetch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fs::read(ctx.blob_path(&body)).unwrap(), body);
    assert_eq!(ctx.assert_cache_invariant(), 1);
    assert!(
        ctx.temp_files().is_empty(),
        "the stale temp file was cleaned"
    );
}

#[test]
fn fetch_waits_while_gc_holds_the_cache() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let body = data(103, 1000);
    server.route("m", body.clone());
    ctx.write_lockfile(&[Entry::new("m", &server.url("m"), &body)]);
    let cache = cargo_models::Cache::open(&ctx.cache).unwrap();
    let gc = cache
        .lock_exclusive(|| panic!("nobody else holds it"))
        .unwrap();
    let mut child = ctx
        .cmd()
        .arg("fetch")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "fetch ran while gc held the cache"
    );
    assert_eq!(server.hits("m"), 0);
    drop(gc);
    let run: Run = child.wait_with_output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("waiting for `cargo models gc` to finish"),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read(ctx.blob_path(&body)).unwrap(), body);
}
