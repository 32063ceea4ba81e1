//! Sync over the real service (in-process, SQLite in a temporary directory, loopback):
//!
//! - `push_100_operations`: one client pushes 100 new captures and waits for the ack and
//!   the events they cause (throughput in operations/s).
//! - `1000_clients_one_push_each`: 1,000 connected clients (1,000 users) each push one
//!   capture at once; the time until every ack is back. At the end, over all rounds, the
//!   p50/p99 of each push's ack latency (sent → ack) and of ack + its events (sent → the
//!   events up to the ack's cursor) are printed.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dreamcatcher_server::{DatabaseLocation, ServerConfig, accounts};
use dreamcatcher_sync::Operation;
use tokio::runtime::Runtime;

use support::{Socket, connect, operation, print_latencies, push_and_settle};

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

fn many_clients(c: &mut Criterion) {
    const CLIENTS: usize = 1000;
    let runtime = Runtime::new().unwrap();
    let server_runtime = Runtime::new().unwrap();
    let service = server_runtime.block_on(start_service());
    let (service, sockets) = runtime.block_on(async {
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
                            let settled = push_and_settle(&mut socket, vec![operation]).await;
                            latencies
                                .lock()
                                .unwrap()
                                .push((settled.acked - sent, settled.events - sent));
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
    let all = latencies.lock().unwrap().clone();
    let mut acks: Vec<Duration> = all.iter().map(|(ack, _)| *ack).collect();
    let mut events: Vec<Duration> = all.iter().map(|(_, events)| *events).collect();
    print_latencies("1000 clients: push -> ack", &mut acks);
    print_latencies("1000 clients: push -> ack + own events", &mut events);
    runtime.block_on(async { drop(sockets) });
    server_runtime.block_on(async { service.server.stop().await.unwrap() });
}

criterion_group!(benches, push_throughput, many_clients);
criterion_main!(benches);
