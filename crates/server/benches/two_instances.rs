//! Two service instances sharing one PostgreSQL database (in-process, loopback), the
//! deployment that relies on LISTEN/NOTIFY to tell each instance about the other's events.
//!
//! Run it with a throwaway PostgreSQL server:
//!
//! ```text
//! crates/server/scripts/with-postgres.sh cargo bench -p dreamcatcher-server --bench two_instances
//! ```
//!
//! or against any server with `DATABASE_URL=postgres://…` (the script sets
//! `DATABASE_URL_TEST`, which is read when `DATABASE_URL` is unset). The bench creates a
//! database of its own on that server (the role needs CREATEDB) and drops it at the end.
//! Without either variable it prints a line saying it was skipped.
//!
//! `two_instances/200_users_one_push_each`: 200 users, each with one device on each
//! instance. Half the users push from their device on instance A, half from their device
//! on instance B, all at once, one capture each; a round ends when every push is
//! acknowledged and every user's device on the *other* instance has received the event.
//! Criterion's throughput is operations/s; at the end, over all rounds, it prints the
//! p50/p99 of the ack latency and of cross-instance delivery (push sent → event received
//! on the other instance, and ack → that event).

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dreamcatcher_server::{DatabaseLocation, RunningServer, ServerConfig, accounts};
use sqlx::Connection;
use tokio::runtime::Runtime;

use support::{Socket, connect, events_until, operation, print_latencies, push_and_settle};

const USERS: usize = 200;

/// `url` naming database `name` instead of its own.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |index| index + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |index| authority_start + index);
    let mut result = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    result
}

async fn start_instance(url: &str) -> RunningServer {
    let mut config = ServerConfig::new(DatabaseLocation::Postgres(url.to_string()));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.rate_limit = None;
    dreamcatcher_server::start(config).await.unwrap()
}

/// One user's two devices: `pusher` on the instance that records, `listener` on the other.
struct Pair {
    pusher: Socket,
    listener: Socket,
    /// The user's latest cursor: each push of a new capture records one event.
    cursor: u64,
}

fn two_instances(c: &mut Criterion) {
    let Some(admin_url) = std::env::var("DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL_TEST"))
        .ok()
    else {
        println!(
            "two_instances: skipped, DATABASE_URL is not set (run it under crates/server/scripts/with-postgres.sh)"
        );
        return;
    };
    let runtime = Runtime::new().unwrap();
    let database = format!(
        "dc_bench_{}",
        accounts::hex(&accounts::random_bytes::<6>().unwrap())
    );
    let url = with_database(&admin_url, &database);
    let (a, b, pairs) = runtime.block_on(async {
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {database}"))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        let a = start_instance(&url).await;
        let b = start_instance(&url).await;
        let urls = [
            format!("ws://{}/ws/dreamcatcher", a.addr),
            format!("ws://{}/ws/dreamcatcher", b.addr),
        ];
        let mut pairs = Vec::with_capacity(USERS);
        for index in 0..USERS {
            let name = format!("user-{index}");
            accounts::add_user(&a.state.db, &name).await.unwrap();
            let first = accounts::create_token(&a.state.db, &name, "pusher")
                .await
                .unwrap()
                .token;
            let second = accounts::create_token(&a.state.db, &name, "listener")
                .await
                .unwrap()
                .token;
            // Even users record on A and listen on B; odd users the other way round.
            let (push_on, listen_on) = if index % 2 == 0 { (0, 1) } else { (1, 0) };
            pairs.push(Arc::new(tokio::sync::Mutex::new(Pair {
                pusher: connect(&urls[push_on], &first).await,
                listener: connect(&urls[listen_on], &second).await,
                cursor: 0,
            })));
        }
        (a, b, pairs)
    });
    // (ack, push → other instance, ack → other instance)
    let samples = Arc::new(Mutex::new(Vec::new()));
    let mut serial = 0u64;
    let mut group = c.benchmark_group("two_instances");
    group.throughput(Throughput::Elements(USERS as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    group.bench_function("200_users_one_push_each", |bencher| {
        bencher.iter_custom(|iterations| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let started = Instant::now();
                    let mut tasks = Vec::with_capacity(USERS);
                    for pair in &pairs {
                        serial += 1;
                        let operation = operation(serial);
                        let pair = pair.clone();
                        let samples = samples.clone();
                        tasks.push(tokio::spawn(async move {
                            let mut pair = pair.lock().await;
                            let Pair {
                                pusher,
                                listener,
                                cursor,
                            } = &mut *pair;
                            *cursor += 1;
                            let sent = Instant::now();
                            let (settled, delivered) = tokio::join!(
                                push_and_settle(pusher, vec![operation]),
                                events_until(listener, *cursor),
                            );
                            samples.lock().unwrap().push((
                                settled.acked - sent,
                                delivered - sent,
                                delivered.saturating_duration_since(settled.acked),
                            ));
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
    let all = samples.lock().unwrap().clone();
    let mut acks: Vec<Duration> = all.iter().map(|sample| sample.0).collect();
    let mut delivered: Vec<Duration> = all.iter().map(|sample| sample.1).collect();
    let mut after_ack: Vec<Duration> = all.iter().map(|sample| sample.2).collect();
    print_latencies("two instances: push -> ack", &mut acks);
    print_latencies(
        "two instances: push -> event on the other instance",
        &mut delivered,
    );
    print_latencies(
        "two instances: ack -> event on the other instance",
        &mut after_ack,
    );
    runtime.block_on(async {
        drop(pairs);
        a.stop().await.unwrap();
        b.stop().await.unwrap();
        if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
                .execute(&mut admin)
                .await;
            let _ = admin.close().await;
        }
    });
}

criterion_group!(benches, two_instances);
criterion_main!(benches);
