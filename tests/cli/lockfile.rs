//! Lockfile fixtures: every invalid one fails before any network traffic, with an error that
//! names the file, line, column and entry.

use std::fs;
use std::path::{Path, PathBuf};

use crate::TestContext;
use crate::server::TestServer;

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/lockfiles")
        .join(kind);
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "lock"))
        .collect();
    files.sort();
    files
}

fn install(ctx: &TestContext, fixture: &Path, server: &TestServer) {
    let text = fs::read_to_string(fixture)
        .unwrap()
        .replace("SERVER", &server.addr().to_string());
    fs::write(ctx.lockfile_path(), text).unwrap();
}

#[test]
fn invalid_lockfiles_are_rejected_before_any_request() {
    let files = fixtures("invalid");
    assert!(files.len() >= 10);
    for fixture in files {
        let ctx = TestContext::new();
        let server = TestServer::start();
        install(&ctx, &fixture, &server);
        let run = ctx.run(&["fetch"]);
        let name = fixture.file_stem().unwrap().to_string_lossy().into_owned();
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(server.requests().is_empty(), "{name}: the network was used");
        assert_eq!(ctx.assert_cache_invariant(), 0);
        insta::assert_snapshot!(format!("invalid_{name}"), ctx.redact(&run.stderr));
    }
}

#[test]
fn valid_lockfiles_are_listed() {
    for fixture in fixtures("valid") {
        let ctx = TestContext::new();
        let server = TestServer::start();
        install(&ctx, &fixture, &server);
        let run = ctx.run(&["list"]);
        let name = fixture.file_stem().unwrap().to_string_lossy().into_owned();
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        insta::assert_snapshot!(format!("valid_{name}"), ctx.redact(&run.stdout));
    }
}

#[test]
fn the_lockfile_is_found_in_a_parent_folder_or_named_by_flag() {
    let ctx = TestContext::new();
    fs::write(ctx.lockfile_path(), "version = 1\n").unwrap();
    let sub = ctx.project.join("src/deep");
    fs::create_dir_all(&sub).unwrap();
    let run: crate::Run = ctx
        .cmd()
        .arg("list")
        .current_dir(&sub)
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 0, "{}", run.stderr);

    let elsewhere = ctx.dir.path().join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    let run: crate::Run = ctx
        .cmd()
        .arg("list")
        .current_dir(&elsewhere)
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(ctx.redact(&run.stderr));

    let lockfile = ctx.lockfile_path().display().to_string();
    let run: crate::Run = ctx
        .cmd()
        .args(["list", "--lockfile", &lockfile])
        .current_dir(&elsewhere)
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 0, "{}", run.stderr);
}
