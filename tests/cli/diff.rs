//! `cargo models diff`: every format on a fixture pair with every kind of change and every flag,
//! revisions of a real git repository, reordered entries, invalid lockfiles, `--exit-code`, and
//! `--textconv` as git's diff driver.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Run, TestContext};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/diff")
        .join(name)
}

/// Copies fixtures into the project folder, so that labels are short relative paths.
fn install(ctx: &TestContext, names: &[&str]) {
    for name in names {
        fs::copy(fixture(name), ctx.project.join(name)).unwrap();
    }
}

fn run_in(ctx: &TestContext, dir: &Path, args: &[&str]) -> Run {
    ctx.cmd()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
        .into()
}

/// Runs git in `dir` with no system or user configuration.
fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.org",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn commit(dir: &Path, message: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
}

#[test]
fn every_format_of_every_change_and_flag() {
    let ctx = TestContext::new();
    install(&ctx, &["old.lock", "new.lock"]);
    for format in ["text", "markdown", "json"] {
        let run = ctx.run(&["diff", "old.lock", "new.lock", "--format", format]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.stderr, "");
        insta::assert_snapshot!(format!("fixture_{format}"), run.stdout);
    }
    let json: serde_json::Value = serde_json::from_str(
        &ctx.run(&["diff", "old.lock", "new.lock", "--format", "json"])
            .stdout,
    )
    .unwrap();
    let kinds = |key: &str| -> Vec<String> {
        let mut k: Vec<String> = json[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["kind"].as_str().unwrap().to_string())
            .collect();
        k.dedup();
        k
    };
    assert_eq!(
        kinds("changes"),
        [
            "added",
            "removed",
            "renamed",
            "content-changed",
            "source-changed",
            "metadata-changed"
        ]
    );
    assert_eq!(
        kinds("flags"),
        [
            "new-host",
            "moving-revision",
            "insecure-http",
            "replaced-upstream",
            "total-size"
        ]
    );
}

#[test]
fn exit_code_says_whether_there_are_changes() {
    let ctx = TestContext::new();
    install(&ctx, &["old.lock", "new.lock", "reordered.lock"]);
    assert_eq!(ctx.run(&["diff", "old.lock", "new.lock"]).code, 0);
    let run = ctx.run(&["diff", "old.lock", "new.lock", "--exit-code"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("8 changes"), "{}", run.stdout);
    let run = ctx.run(&["diff", "new.lock", "reordered.lock", "--exit-code"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn reordered_entries_are_no_change() {
    let ctx = TestContext::new();
    install(&ctx, &["new.lock", "reordered.lock"]);
    let run = ctx.run(&["diff", "new.lock", "reordered.lock"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "diff new.lock → reordered.lock\nno changes: both pin the same models\n"
    );
    let run = ctx.run(&["diff", "new.lock", "reordered.lock", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["changes"], serde_json::json!([]));
    assert_eq!(json["flags"], serde_json::json!([]));
    let run = ctx.run(&["diff", "new.lock", "reordered.lock", "--format", "markdown"]);
    assert!(run.stdout.starts_with("### `reordered.lock`: no changes\n"));
}

#[test]
fn color_only_when_asked_or_on_a_terminal() {
    let ctx = TestContext::new();
    install(&ctx, &["old.lock", "new.lock"]);
    let plain = ctx.run(&["diff", "old.lock", "new.lock"]);
    assert!(!plain.stdout.contains('\x1b'));
    let colored = ctx.run(&["diff", "old.lock", "new.lock", "--color", "always"]);
    assert!(
        colored.stdout.contains("\x1b[32madded"),
        "{}",
        colored.stdout
    );
    let re = regex_lite::Regex::new("\x1b\\[[0-9;]*m").unwrap();
    assert_eq!(re.replace_all(&colored.stdout, ""), plain.stdout);
}

#[test]
fn invalid_lockfiles_are_reported_not_diffed() {
    let ctx = TestContext::new();
    install(&ctx, &["old.lock", "invalid.lock"]);
    let run = ctx.run(&["diff", "old.lock", "invalid.lock"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    insta::assert_snapshot!("invalid_new", ctx.redact(&run.stderr));

    // Both sides invalid: both are reported.
    fs::copy(
        fixture("invalid.lock"),
        ctx.project.join("also-invalid.lock"),
    )
    .unwrap();
    let run = ctx.run(&["diff", "also-invalid.lock", "invalid.lock"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.matches("error: ").count(), 6, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: `also-invalid.lock`:7:1: model `tiny-bert`: unknown key `sha265`")
    );
    assert!(run.stderr.contains(
        "error: `invalid.lock`:12:10: model `llama`: `sha256` must be 64 hex digits, found 3"
    ));
}

#[test]
fn textconv_prints_one_sorted_line_per_model() {
    let ctx = TestContext::new();
    install(&ctx, &["new.lock", "reordered.lock", "invalid.lock"]);
    let run = ctx.run(&["diff", "--textconv", "new.lock"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("textconv", run.stdout);
    assert_eq!(
        ctx.run(&["diff", "--textconv", "reordered.lock"]).stdout,
        run.stdout
    );
    // An invalid lockfile still shows, after its problems, so that `git diff` works.
    let run = ctx.run(&["diff", "--textconv", "invalid.lock"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("# not a valid lockfile: 7:1: model `tiny-bert`: unknown key `sha265`"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .ends_with(&fs::read_to_string(fixture("invalid.lock")).unwrap())
    );
    assert_eq!(ctx.run(&["diff", "--textconv", "missing.lock"]).code, 3);
    assert_eq!(ctx.run(&["diff", "--textconv", "new.lock", "HEAD"]).code, 2);
}

#[test]
fn revisions_of_a_git_repository() {
    let ctx = TestContext::new();
    let repo = &ctx.project;
    let ml = repo.join("ml");
    fs::create_dir_all(&ml).unwrap();
    let lockfile = ml.join("models.lock");
    git(repo, &["init", "-q"]);
    fs::write(repo.join("README"), "a project\n").unwrap();
    commit(repo, "no lockfile yet");
    fs::copy(fixture("old.lock"), &lockfile).unwrap();
    commit(repo, "pin models");
    fs::copy(fixture("new.lock"), &lockfile).unwrap();
    commit(repo, "update models");

    // The path inside revisions is the lockfile's, relative to the repository root.
    let run = run_in(&ctx, &ml, &["diff", "HEAD~1", "HEAD"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("git_revisions", run.stdout);
    let files = run_in(
        &ctx,
        &ml,
        &[
            "diff",
            &fixture("old.lock").display().to_string(),
            "models.lock",
        ],
    );
    assert_eq!(
        run.stdout.lines().skip(1).collect::<Vec<_>>(),
        files.stdout.lines().skip(1).collect::<Vec<_>>(),
        "a revision and a file with the same text give the same diff"
    );

    // A lockfile missing at a revision counts as empty, and the output says so.
    let run = run_in(&ctx, &ml, &["diff", "HEAD~2", "HEAD~1", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["old"]["label"], "HEAD~2:ml/models.lock");
    assert_eq!(json["old"]["revision"], "HEAD~2");
    assert_eq!(json["old"]["path"], "ml/models.lock");
    assert_eq!(json["old"]["exists"], false);
    assert_eq!(json["changes"].as_array().unwrap().len(), 8);
    let run = run_in(&ctx, &ml, &["diff", "HEAD~2", "HEAD~1"]);
    assert!(
        run.stdout.starts_with(
            "diff HEAD~2:ml/models.lock → HEAD~1:ml/models.lock\nnote: there is no lockfile at `HEAD~2:ml/models.lock`; it counts as empty\n8 changes: 8 added\n"
        ),
        "{}",
        run.stdout
    );

    // Default: HEAD against the working tree, from any folder of the project, or by --lockfile.
    fs::copy(fixture("reordered.lock"), &lockfile).unwrap();
    let run = run_in(&ctx, &ml, &["diff", "--exit-code"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.stdout,
        "diff HEAD:ml/models.lock → models.lock\nno changes: both pin the same models\n"
    );
    let run = run_in(&ctx, &ml, &["diff", "HEAD~1"]);
    assert!(
        run.stdout
            .starts_with("diff HEAD~1:ml/models.lock → models.lock\n8 changes")
    );
    let text = fs::read_to_string(&lockfile).unwrap();
    let cut = text.find("[[model]]\nsize = 1000").unwrap();
    fs::write(&lockfile, &text[..cut]).unwrap();
    let run = run_in(&ctx, &repo.join("ml"), &["diff", "--exit-code"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("removed  ") && run.stdout.contains("7 changes: 7 removed"),
        "{}",
        run.stdout
    );
    let run = run_in(
        &ctx,
        repo,
        &["diff", "--lockfile", "ml/models.lock", "--format", "json"],
    );
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["old"]["label"], "HEAD:ml/models.lock");
    assert_eq!(json["new"]["label"], "ml/models.lock");

    // Not a file and not a revision, and an invalid lockfile at a revision.
    let run = run_in(&ctx, &ml, &["diff", "no-such-branch"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        ctx.redact(&run.stderr),
        "error: `no-such-branch` is neither a file nor a revision of the git repository at `[ROOT]`\n"
    );
    fs::copy(fixture("invalid.lock"), &lockfile).unwrap();
    commit(repo, "break it");
    let run = run_in(&ctx, &ml, &["diff", "HEAD", "HEAD~1"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with(
            "error: `HEAD:ml/models.lock`:7:1: model `tiny-bert`: unknown key `sha265`"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_repository_without_commits_compares_against_nothing() {
    let ctx = TestContext::new();
    git(&ctx.project, &["init", "-q"]);
    install(&ctx, &["new.lock"]);
    fs::rename(ctx.project.join("new.lock"), ctx.lockfile_path()).unwrap();
    let run = ctx.run(&["diff"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(
            "diff HEAD:models.lock → models.lock\nnote: there is no lockfile at `HEAD:models.lock`; it counts as empty\n"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn outside_a_repository_only_files_can_be_compared() {
    let ctx = TestContext::new();
    install(&ctx, &["new.lock"]);
    fs::rename(ctx.project.join("new.lock"), ctx.lockfile_path()).unwrap();
    let run: Run = ctx
        .cmd()
        .env("GIT_CEILING_DIRECTORIES", ctx.dir.path())
        .arg("diff")
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 2);
    assert_eq!(
        ctx.redact(&run.stderr),
        "error: `HEAD` is not a file, and `[ROOT]` is not inside a git repository; name a lockfile file, or run inside a repository to compare revisions\n"
    );
}

#[test]
fn git_diff_uses_textconv_as_the_diff_driver() {
    let ctx = TestContext::new();
    let repo = &ctx.project;
    git(repo, &["init", "-q"]);
    fs::write(
        repo.join(".gitattributes"),
        "models.lock diff=models-lock\n",
    )
    .unwrap();
    fs::copy(fixture("old.lock"), ctx.lockfile_path()).unwrap();
    commit(repo, "pin models");
    fs::copy(fixture("new.lock"), ctx.lockfile_path()).unwrap();
    commit(repo, "update models");
    let textconv = format!("'{}' diff --textconv", crate::BIN);
    let out = Command::new("git")
        .current_dir(repo)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["-c", &format!("diff.models-lock.textconv={textconv}")])
        .args(["-c", "diff.models-lock.cachetextconv=true"])
        // The textconv cache is kept in git notes, which are commits.
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.org"])
        .args([
            "diff",
            "--no-color",
            "--no-ext-diff",
            "-U0",
            "HEAD~1",
            "HEAD",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let re = regex_lite::Regex::new(r"index [0-9a-f]+\.\.[0-9a-f]+").unwrap();
    insta::assert_snapshot!(
        "git_diff_textconv",
        re.replace_all(&stdout, "index [OID]..[OID]")
    );
}
