//! What the service benchmarks share: a capture operation, a connected client, a push
//! that waits for its answers, latency percentiles.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use chrono::TimeZone;
use dreamcatcher_model::{Conversation, Dream, Message, Role, Site};
use dreamcatcher_sync::{
    ClientMessage, Cursor, DeviceId, Hello, OpId, Operation, PROTOCOL_VERSION, Push, ServerMessage,
};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as Frame;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub fn operation(serial: u64) -> Operation {
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

pub async fn connect(url: &str, token: &str) -> Socket {
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

pub async fn next_message(socket: &mut Socket) -> ServerMessage {
    loop {
        match socket.next().await.unwrap().unwrap() {
            Frame::Text(text) => return ServerMessage::parse(text.as_str()).unwrap(),
            _ => continue,
        }
    }
}

/// When a push's answers arrived.
pub struct Settled {
    pub acked: Instant,
    pub events: Instant,
}

/// Sends one push and waits for its ack and the events up to the ack's cursor.
pub async fn push_and_settle(socket: &mut Socket, operations: Vec<Operation>) -> Settled {
    let push = ClientMessage::Push(Push { operations });
    socket.send(Frame::text(push.to_json())).await.unwrap();
    let mut target = None;
    let mut acked = None;
    let mut seen = 0;
    loop {
        match next_message(socket).await {
            ServerMessage::Ack(ack) => {
                target = Some(ack.server_cursor);
                acked = Some(Instant::now());
            }
            ServerMessage::Events(events) => {
                seen = events.events.last().map_or(seen, |event| event.cursor);
            }
            _ => {}
        }
        if let (Some(target), Some(acked)) = (target, acked)
            && seen >= target
        {
            return Settled {
                acked,
                events: Instant::now(),
            };
        }
    }
}

/// Reads until an `events` message reaches `cursor`; when it arrived.
pub async fn events_until(socket: &mut Socket, cursor: Cursor) -> Instant {
    loop {
        if let ServerMessage::Events(events) = next_message(socket).await
            && events
                .events
                .last()
                .is_some_and(|event| event.cursor >= cursor)
        {
            return Instant::now();
        }
    }
}

pub fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

/// One line: `what: p50 … ms, p99 … ms, max … ms over N samples`.
pub fn print_latencies(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let millis = |duration: Duration| duration.as_secs_f64() * 1000.0;
    println!(
        "{what}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} samples",
        millis(percentile(samples, 0.50)),
        millis(percentile(samples, 0.99)),
        millis(samples.last().copied().unwrap_or_default()),
        samples.len(),
    );
}
