//! The `dreamcatcher-server` binary: account commands, and `serve` as a real process.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dreamcatcher-server"));
    command.env_remove("DATABASE_URL").env("RUST_LOG", "warn");
    command
}

fn run(data: &Path, args: &[&str]) -> Output {
    binary()
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn last_line(output: &Output) -> String {
    stdout(output)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn accounts_tokens_and_pairing_codes_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let added = run(&data, &["user", "add", "alice"]);
    assert!(added.status.success(), "{added:?}");
    let again = run(&data, &["user", "add", "alice"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let created = run(&data, &["token", "create", "alice", "--device", "script"]);
    assert!(created.status.success(), "{created:?}");
    let token = last_line(&created);
    assert!(token.starts_with("dct_") && token.len() == 68, "{token:?}");

    let paired = run(&data, &["pair", "alice", "--minutes", "5"]);
    assert!(paired.status.success(), "{paired:?}");
    let code = last_line(&paired);
    assert_eq!(code.len(), 11, "{code:?}");
    assert_eq!(code.chars().nth(5), Some('-'));

    let users = run(&data, &["user", "list"]);
    assert!(stdout(&users).starts_with("alice\t"), "{}", stdout(&users));
    assert!(stdout(&users).contains("1 active devices"));

    let devices = run(&data, &["token", "list", "alice"]);
    let device_id = stdout(&devices).split('\t').next().unwrap().to_string();
    assert!(
        stdout(&devices).contains("script\tactive"),
        "{}",
        stdout(&devices)
    );
    let revoked = run(&data, &["token", "revoke", "--device", &device_id]);
    assert!(revoked.status.success(), "{revoked:?}");
    assert!(stdout(&run(&data, &["token", "list", "alice"])).contains("revoked"));
    let twice = run(&data, &["token", "revoke", "--device", &device_id]);
    assert!(!twice.status.success());

    let unknown = run(&data, &["token", "create", "nobody"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no user named \"nobody\""));
    let bad_url = binary()
        .args(["user", "list", "--data"])
        .arg(&data)
        .env("DATABASE_URL", "mysql://localhost/x")
        .output()
        .unwrap();
    assert!(!bad_url.status.success());
    assert!(String::from_utf8_lossy(&bad_url.stderr).contains("not supported"));
}

#[test]
fn serve_runs_until_terminated() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(run(&data, &["user", "add", "alice"]).status.success());
    let token = last_line(&run(&data, &["token", "create", "alice"]));

    let mut child = binary()
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let base = first_line
        .trim()
        .strip_prefix("dreamcatcher-server listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"))
        .to_string();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let health = client.get(format!("{base}/health")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        let list = client
            .get(format!("{base}/api/v1/dreams"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(list.status(), 200, "a token from `token create` works");
    });

    let terminated = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(terminated.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    assert!(data.join("dreamcatcher.sqlite3").exists());
}
