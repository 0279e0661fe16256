//! GitHub Actions mode: annotations at the exact lockfile line, step summary, outputs.

use std::fs;

use crate::server::{Fault, TestServer};
use crate::{Entry, Run, TestContext, data};

fn github_run(ctx: &TestContext, args: &[&str]) -> (Run, String, String) {
    let summary = ctx.dir.path().join("summary.md");
    let output = ctx.dir.path().join("output.txt");
    let run: Run = ctx
        .cmd()
        .args(args)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", &ctx.project)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &output)
        .output()
        .unwrap()
        .into();
    let read = |p| fs::read_to_string(p).unwrap_or_default();
    (run, read(&summary), read(&output))
}

#[test]
fn a_mismatch_is_annotated_on_its_sha256_line_and_summarised() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let good = data(600, 5000);
    let bad = data(601, 5000);
    server.route("good", good.clone());
    server.route_always("bad", bad.clone(), Fault::Corrupt { at: 10 });
    ctx.write_lockfile(&[
        Entry::new("bad", &server.url("bad"), &bad),
        Entry::new("good", &server.url("good"), &good),
    ]);
    let sha_line = fs::read_to_string(ctx.lockfile_path())
        .unwrap()
        .lines()
        .position(|l| l.starts_with("sha256 = "))
        .unwrap()
        + 1;
    let (run, summary, output) = github_run(&ctx, &["fetch"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let annotations: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(annotations.len(), 1, "{}", run.stdout);
    assert!(
        annotations[0].starts_with(&format!("::error file=models.lock,line={sha_line},title=model hash mismatch::model hash mismatch for `bad`%0A")),
        "{}",
        annotations[0]
    );
    assert!(
        run.stderr.contains("error: model hash mismatch for `bad`"),
        "human output stays"
    );
    let rows: Vec<&str> = summary
        .lines()
        .filter(|l| l.starts_with("| ❌") || l.starts_with("| ✅"))
        .collect();
    assert_eq!(rows.len(), 2, "{summary}");
    assert!(
        rows[0].starts_with("| ❌ | `bad` |"),
        "failures first: {summary}"
    );
    assert!(rows[1].contains("| downloaded |"), "{summary}");
    assert!(
        output.starts_with("verified=1\nfailed=1\nmodels<<"),
        "{output}"
    );
    let json = output.lines().nth(3).unwrap();
    let models: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(models["good"], ctx.blob_path(&good).display().to_string());
}

#[test]
fn at_most_ten_annotations_and_lockfile_errors_are_annotated() {
    let ctx = TestContext::new();
    let server = TestServer::start();
    let entries: Vec<Entry> = (0..12)
        .map(|i| {
            Entry::new(
                &format!("m{i:02}"),
                &server.url("nowhere"),
                &data(610 + i, 10),
            )
        })
        .collect();
    ctx.write_lockfile(&entries);
    let (run, summary, _) = github_run(&ctx, &["fetch", "--retries", "0"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.starts_with("::error "))
            .count(),
        10
    );
    assert_eq!(
        summary.matches("| ❌ |").count(),
        12,
        "the summary lists every failure"
    );

    fs::write(
        ctx.lockfile_path(),
        "version = 1\n\n[[model]]\nname = \"x\"\nurl = \"https://x/y\"\nsha265 = \"00\"\n",
    )
    .unwrap();
    let run: Run = ctx
        .cmd()
        .args(["fetch", "--message-format", "github"])
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(run.stdout, @r"
    ::error file=models.lock,line=6,col=1,title=invalid models.lock::model `x`: unknown key `sha265`; did you mean `sha256`? expected one of: name, url, sha256, size, mirrors, path, aliases, fingerprint
    ::error file=models.lock,line=3,col=1,title=invalid models.lock::model `x`: missing required key `sha256`; `cargo models add URL` computes it
    ");
}
