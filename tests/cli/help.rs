//! `--help` of every command, snapshotted so that CLI changes show in review.

use crate::TestContext;

#[test]
fn help_of_every_command() {
    let ctx = TestContext::new();
    for cmd in [
        &[][..],
        &["fetch"],
        &["verify"],
        &["path"],
        &["list"],
        &["add"],
        &["remove"],
        &["update"],
        &["diff"],
        &["gc"],
        &["cache"],
        &["inspect"],
    ] {
        let mut args: Vec<&str> = cmd.to_vec();
        args.push("--help");
        let run = ctx.run(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let name = if cmd.is_empty() { "main" } else { cmd[0] };
        insta::assert_snapshot!(format!("help_{name}"), run.stdout);
    }
}

#[test]
fn bad_arguments_exit_2() {
    let ctx = TestContext::new();
    let run = ctx.run(&["fetch", "--verify", "sometimes"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("invalid value 'sometimes'"),
        "{}",
        run.stderr
    );
}
