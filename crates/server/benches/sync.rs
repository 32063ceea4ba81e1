//! Sync over the real service (in-process, SQLite in a temporary directory, loopback):
//!
//! - `push_100_operations`: one client pushes 100 new captures and waits for the ack and
//!   the events they cause (throughput in operations/s).
//! - `1000_clients_one_push_each`: 1,000 connected clients (1,000 users) each push one
//!   capture at once; the time until every ack is back. The ack latencies of all samples
//!   are printed as p50/p99 at the end.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::TimeZone;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dreamcatcher_model::{Conversation, Dream, Message, Role, Site};
use dreamcatcher_server::{DatabaseLocation, ServerConfig, accounts};
use dreamcatcher_sync::{
    ClientMessage, DeviceId, Hello, OpId, Operation, PROTOCOL_VERSION, Push, ServerMessage,
};
use futures_util::{SinkExt, StreamExt};
use tokio::runtime::Runtime;
use tokio_tungstenite::tungstenite::Message as Frame;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn operation(serial: u64) -> Operation {
    let at = chrono::Utc.with_ymd_and_hms(2026, 5, 4, 9, 0, 0).unwrap();
    let mut conversation = Conversation::new(
        Site::Chatgpt,
        Some(format!("bench-{serial}")),
        format!("Benchmark conversation {serial}"),
    );
    conversation.messages.push(Message::new(
        Role::User,
        "How do I read a file line by line in Rust?",
    ));
    conversation.messages.push(Message::new(
        Role::Assistant,
        "Use `BufReader::lines`:\n\n```rust\nfor line in BufReader::new(file).lines() {\n    println!(\"{}\", line?);\n}\n```\n",
    ));
    Operation::upsert(
        OpId(format!("op-bench-{serial}")),
        DeviceId("dev-bench".into()),
        0,
        Dream::captured(conversation, at),
        at,
    )
}

async fn connect(url: &str, token: &str) -> Socket {
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let hello = ClientMessage::Hello(Hello {
        protocol_version: PROTOCOL_VERSION,
        device_token: token.to_string(),
        last_cursor: 0,
    });
    socket.send(Frame::text(hello.to_json())).await.unwrap();
    next_message(&mut socket).await;
    socket
}

async fn next_message(socket: &mut Socket) -> ServerMessage {
    loop {
        match socket.next().await.unwrap().unwrap() {
            Frame::Text(text) => return ServerMessage::parse(text.as_str()).unwrap(),
            _ => continue,
        }
    }
}

/// Sends one push and waits for its ack and the events up to the ack's cursor.
async fn push_and_settle(socket: &mut Socket, operations: Vec<Operation>) {
    let push = ClientMessage::Push(Push { operations });
    socket.send(Frame::text(push.to_json())).await.unwrap();
    let mut target = None;
    let mut seen = 0;
    loop {
        match next_message(socket).await {
            ServerMessage::Ack(ack) => target = Some(ack.server_cursor),
            ServerMessage::Events(events) => {
                seen = events.events.last().map_or(seen, |event| event.cursor);
            }
            _ => {}
        }
        if target.is_some_and(|target| seen >= target) {
            return;
        }
    }
}

struct Service {
    server: dreamcatcher_server::RunningServer,
    _dir: tempfile::TempDir,
}

async fn start_service() -> Service {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(DatabaseLocation::SqliteDir(dir.path().join("data")));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.rate_limit = None;
    let server = dreamcatcher_server::start(config).await.unwrap();
    Service { server, _dir: dir }
}

async fn new_token(service: &Service, name: &str) -> String {
    let db = &service.server.state.db;
    accounts::add_user(db, name).await.unwrap();
    accounts::create_token(db, name, "bench")
        .await
        .unwrap()
        .token
}

fn push_throughput(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap();
    let (service, mut socket) = runtime.block_on(async {
        let service = start_service().await;
        let token = new_token(&service, "bench").await;
        let url = format!("ws://{}/ws/dreamcatcher", service.server.addr);
        let socket = connect(&url, &token).await;
        (service, socket)
    });
    let mut serial = 0u64;
    let mut group = c.benchmark_group("sync");
    group.throughput(Throughput::Elements(100));
    group.sample_size(20);
    group.bench_function("push_100_operations", |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let operations: Vec<Operation> = (0..100)
                        .map(|_| {
                            serial += 1;
                            operation(serial)
                        })
                        .collect();
                    let started = Instant::now();
                    push_and_settle(&mut socket, operations).await;
                    total += started.elapsed();
                }
                total
            })
        });
    });
    group.finish();
    runtime.block_on(async {
        drop(socket);
        service.server.stop().await.unwrap();
    });
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

fn many_clients(c: &mut Criterion) {
    const CLIENTS: usize = 1000;
    let runtime = Runtime::new().unwrap();
    let (service, sockets) = runtime.block_on(async {
        let service = start_service().await;
        let url = format!("ws://{}/ws/dreamcatcher", service.server.addr);
        let mut sockets = Vec::with_capacity(CLIENTS);
        for index in 0..CLIENTS {
            let token = new_token(&service, &format!("user-{index}")).await;
            sockets.push(connect(&url, &token).await);
        }
        (service, sockets)
    });
    let sockets: Vec<Arc<tokio::sync::Mutex<Socket>>> = sockets
        .into_iter()
        .map(|socket| Arc::new(tokio::sync::Mutex::new(socket)))
        .collect();
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let mut serial = 1_000_000u64;
    let mut group = c.benchmark_group("sync");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("1000_clients_one_push_each", |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let started = Instant::now();
                    let mut tasks = Vec::with_capacity(CLIENTS);
                    for socket in &sockets {
                        serial += 1;
                        let operation = operation(serial);
                        let socket = socket.clone();
                        let latencies = latencies.clone();
                        tasks.push(tokio::spawn(async move {
                            let mut socket = socket.lock().await;
                            let sent = Instant::now();
                            push_and_settle(&mut socket, vec![operation]).await;
                            latencies.lock().unwrap().push(sent.elapsed());
                        }));
                    }
                    for task in tasks {
                        task.await.unwrap();
                    }
                    total += started.elapsed();
                }
                total
            })
        });
    });
    group.finish();
    let mut all = latencies.lock().unwrap().clone();
    all.sort();
    println!(
        "1000 clients: ack+event latency over {} pushes: p50 {:.1} ms, p99 {:.1} ms",
        all.len(),
        percentile(&all, 0.50).as_secs_f64() * 1000.0,
        percentile(&all, 0.99).as_secs_f64() * 1000.0,
    );
    runtime.block_on(async {
        drop(sockets);
        service.server.stop().await.unwrap();
    });
}

criterion_group!(benches, push_throughput, many_clients);
criterion_main!(benches);
