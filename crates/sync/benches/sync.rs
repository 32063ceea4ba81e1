//! What one push and one page of events cost: parsing, applying on the service, and the
//! client's handling. The service's target is an ack within 50 ms at p99 for 1,000 clients
//! on 2 cores, so a push of 100 operations must take a small part of that.

use chrono::TimeZone;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use dreamcatcher_model::{Conversation, Dream, Message, Role, Site, Timestamp};
use dreamcatcher_sync::server::{MemoryServerStore, ServerConnection, TokenTable, UserId};
use dreamcatcher_sync::*;
use std::hint::black_box;

struct Counter(u64);

impl RandomSource for Counter {
    fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0
    }
}

fn now() -> Timestamp {
    chrono::Utc
        .timestamp_opt(1_780_000_000, 0)
        .single()
        .unwrap_or_default()
}

/// A captured conversation of `turns` messages of about 600 bytes each.
fn dream(index: usize, turns: usize) -> Dream {
    let mut conversation =
        Conversation::new(Site::Chatgpt, Some(format!("bench-{index}")), "Bench");
    for turn in 0..turns {
        let role = if turn % 2 == 0 {
            Role::User
        } else {
            Role::Assistant
        };
        conversation
            .messages
            .push(Message::new(role, "lorem ipsum dolor sit amet ".repeat(22)));
    }
    Dream::captured(conversation, now())
}

fn captures(count: usize, turns: usize) -> Vec<Operation> {
    let mut random = Counter(1);
    let device = DeviceId::generate(&mut random);
    (0..count)
        .map(|index| {
            Operation::upsert(
                OpId::generate(&mut random),
                device.clone(),
                0,
                dream(index, turns),
                now(),
            )
        })
        .collect()
}

fn tag_edits(count: usize) -> Vec<Operation> {
    let mut random = Counter(2);
    let device = DeviceId::generate(&mut random);
    (0..count)
        .map(|index| {
            let change = DreamChange::SetTags {
                tags: vec!["rust".into(), format!("t{index}")],
            };
            Operation::new(
                OpId::generate(&mut random),
                device.clone(),
                format!("dc-{index}"),
                0,
                change,
                now(),
            )
        })
        .collect()
}

fn push_text(operations: Vec<Operation>) -> String {
    ClientMessage::Push(Push { operations }).to_json()
}

fn bench(c: &mut Criterion) {
    let edits = push_text(tag_edits(100));
    let uploads = push_text(captures(20, 20));
    c.bench_function("parse push of 100 tag edits", |b| {
        b.iter(|| ClientMessage::parse(black_box(&edits)))
    });
    c.bench_function("parse push of 20 captures (20 turns each, 250 KB)", |b| {
        b.iter(|| ClientMessage::parse(black_box(&uploads)))
    });

    let user = UserId("bench".into());
    let tokens = TokenTable::new().with_token("t", user);
    let hello = ClientMessage::Hello(Hello {
        protocol_version: PROTOCOL_VERSION,
        device_token: "t".into(),
        last_cursor: 0,
    })
    .to_json();
    let fresh = || {
        let store = MemoryServerStore::new();
        let mut connection = ServerConnection::new();
        let _ = pollster::block_on(connection.handle_text(&hello, &store, &tokens));
        (store, connection)
    };
    c.bench_function("service: push of 20 captures, ack and events", |b| {
        b.iter_batched(
            fresh,
            |(store, mut connection)| {
                let reply = pollster::block_on(connection.handle_text(&uploads, &store, &tokens));
                while let Ok(Some(message)) = pollster::block_on(connection.next_events(&store)) {
                    black_box(message.to_json());
                }
                reply
            },
            BatchSize::SmallInput,
        )
    });

    let page = {
        let store = MemoryServerStore::new();
        let (_, mut connection) = fresh();
        let tokens = TokenTable::new().with_token("t", UserId("bench".into()));
        let _ = pollster::block_on(connection.handle_text(&hello, &store, &tokens));
        let _ = pollster::block_on(connection.handle_text(&uploads, &store, &tokens));
        pollster::block_on(connection.next_events(&store))
            .ok()
            .flatten()
            .map(|m| m.to_json())
            .unwrap_or_default()
    };
    c.bench_function("client: page of 20 dream events", |b| {
        b.iter_batched(
            || {
                let mut client =
                    SyncClient::restore(SyncClientConfig::new("t"), vec![], 0, Counter(3));
                client.handle(now(), ClientInput::Start);
                client.handle(now(), ClientInput::ConnectionOpened(ConnectionId(1)));
                let welcome = ServerMessage::Welcome(Welcome {
                    protocol_version: 1,
                    server_cursor: 20,
                })
                .to_json();
                client.handle(
                    now(),
                    ClientInput::MessageReceived(ConnectionId(1), welcome),
                );
                client
            },
            |mut client| {
                client.handle(
                    now(),
                    ClientInput::MessageReceived(ConnectionId(1), page.clone()),
                )
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
