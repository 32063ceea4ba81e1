//! The service process killed with SIGKILL in the middle of a sync, again and again: every
//! acknowledged operation survives, and resending what was not acknowledged leaves every
//! capture present exactly once.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use chrono::TimeZone;
use common::WsClient;
use dreamcatcher_model::{Conversation, Dream, Message, Role, Site};
use dreamcatcher_sync::{
    ClientMessage, DeviceId, OpId, Operation, OperationOutcome, Push, ServerMessage,
};

const OPERATIONS: usize = 300;
const KILLS: usize = 4;

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dreamcatcher-server"));
    command.env_remove("DATABASE_URL").env("RUST_LOG", "warn");
    command
}

fn last_line(data: &Path, args: &[&str]) -> String {
    let output = binary()
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

/// Starts `serve` and returns it with its address.
fn serve(data: &Path) -> (Child, String) {
    let mut child = binary()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "0",
            "--data",
        ])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .trim()
        .strip_prefix("dreamcatcher-server listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    (child, address)
}

fn kill_hard(child: &mut Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

fn operation(index: usize) -> Operation {
    let at = chrono::Utc.with_ymd_and_hms(2026, 5, 4, 9, 0, 0).unwrap();
    let mut conversation = Conversation::new(
        Site::Claude,
        Some(format!("durable-{index}")),
        format!("Capture number {index}"),
    );
    conversation
        .messages
        .push(Message::new(Role::User, format!("Question {index}?")));
    conversation
        .messages
        .push(Message::new(Role::Assistant, format!("Answer {index}.")));
    Operation::upsert(
        OpId(format!("op-durable-{index}")),
        DeviceId("dev-durable".into()),
        0,
        Dream::captured(conversation, at),
        at,
    )
}

/// Pushes the operations not yet acknowledged, 10 at a time, oldest first (as the
/// client's outbox does). With `kill_after`, once that many more are acknowledged it sends
/// one more push and kills the service without waiting for its answer.
async fn sync(
    address: &str,
    token: &str,
    operations: &[Operation],
    acknowledged: &mut BTreeSet<usize>,
    applied: &mut usize,
    mut kill_after: Option<(usize, &mut Child)>,
) {
    let mut client = WsClient::connect(&format!("ws://{address}/ws/dreamcatcher"), None).await;
    client.hello(token, 0).await;
    let pending: Vec<usize> = (0..operations.len())
        .filter(|index| !acknowledged.contains(index))
        .collect();
    let mut newly_acknowledged = 0;
    for batch in pending.chunks(10) {
        let push = ClientMessage::Push(Push {
            operations: batch
                .iter()
                .map(|&index| operations[index].clone())
                .collect(),
        });
        client.send(&push).await;
        if let Some((limit, child)) = kill_after.as_mut()
            && newly_acknowledged >= *limit
        {
            kill_hard(child);
            return;
        }
        let ack = loop {
            match client.recv().await {
                ServerMessage::Ack(ack) => break ack,
                ServerMessage::Events(_) => continue,
                other => panic!("unexpected {other:?}"),
            }
        };
        for (index, result) in batch.iter().zip(&ack.results) {
            match result.outcome {
                OperationOutcome::Applied { .. } => *applied += 1,
                OperationOutcome::Duplicate => {}
                ref other => panic!("operation {index}: {other:?}"),
            }
            acknowledged.insert(*index);
            newly_acknowledged += 1;
        }
    }
}

#[test]
fn acknowledged_captures_survive_sigkill_and_land_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    last_line(&data, &["user", "add", "alice"]);
    let token = last_line(&data, &["token", "create", "alice"]);
    let operations: Vec<Operation> = (0..OPERATIONS).map(operation).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut acknowledged = BTreeSet::new();
        let mut applied = 0;
        for round in 0..KILLS {
            let (mut child, address) = serve(&data);
            let limit = 40 + round * 7;
            sync(
                &address,
                &token,
                &operations,
                &mut acknowledged,
                &mut applied,
                Some((limit, &mut child)),
            )
            .await;
            assert!(acknowledged.len() < OPERATIONS, "killed before the end");
        }
        let (mut child, address) = serve(&data);
        sync(
            &address,
            &token,
            &operations,
            &mut acknowledged,
            &mut applied,
            None,
        )
        .await;
        assert_eq!(acknowledged.len(), OPERATIONS);
        // Pushes in flight at a kill were committed or not; a resend tells which.
        assert!(applied <= OPERATIONS);

        let client = reqwest::Client::new();
        let list: serde_json::Value = client
            .get(format!("http://{address}/api/v1/dreams?limit=500"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list["total"], OPERATIONS);
        let ids: BTreeSet<String> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["id"].as_str().unwrap().to_string())
            .collect();
        let expected: BTreeSet<String> = operations.iter().map(|op| op.dream_id.clone()).collect();
        assert_eq!(ids, expected, "every capture present exactly once");
        for item in list["items"].as_array().unwrap() {
            assert_eq!(item["revision"], 1, "no capture applied twice");
        }
        kill_hard(&mut child);
    });
}
