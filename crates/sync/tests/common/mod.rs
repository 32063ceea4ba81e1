//! Helpers shared by the integration tests.
#![allow(dead_code)]

use chrono::TimeZone;
use dreamcatcher_model::{Conversation, Dream, Message, Role, Site, Timestamp};
use dreamcatcher_sync::{DeviceId, DreamChange, OpId, Operation, RandomSource, Revision};
use proptest::prelude::Rng;
use proptest::test_runner::{RngAlgorithm, TestRng};

/// A seeded generator: the same seed gives the same run.
pub struct SeededRandom(TestRng);

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        SeededRandom(TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
    }

    /// Uniform in `0..bound` (bound > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.0.next_u64() % bound
    }

    /// True with probability `per_mille` / 1000.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

impl RandomSource for SeededRandom {
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
}

/// A constant "random" source.
pub struct FixedRandom(pub u64);

impl RandomSource for FixedRandom {
    fn next_u64(&mut self) -> u64 {
        self.0
    }
}

pub fn at(seconds: i64) -> Timestamp {
    chrono::Utc
        .timestamp_opt(1_780_000_000 + seconds, 0)
        .single()
        .unwrap()
}

pub fn at_millis(millis: u64) -> Timestamp {
    at(0) + chrono::TimeDelta::milliseconds(millis as i64)
}

/// A conversation with `messages` alternating turns, its id from `site_id`.
pub fn conversation(site_id: &str, title: &str, messages: usize) -> Conversation {
    let mut conversation = Conversation::new(Site::Claude, Some(site_id.to_string()), title);
    for index in 0..messages {
        let role = if index % 2 == 0 {
            Role::User
        } else {
            Role::Assistant
        };
        conversation
            .messages
            .push(Message::new(role, format!("turn {index} of {title}")));
    }
    conversation
}

pub fn dream(site_id: &str, title: &str, messages: usize) -> Dream {
    Dream::captured(conversation(site_id, title, messages), at(0))
}

pub fn device(name: &str) -> DeviceId {
    DeviceId(format!("dev-{name}"))
}

pub fn op(
    id: &str,
    device_name: &str,
    dream_id: &str,
    base: Revision,
    change: DreamChange,
) -> Operation {
    Operation::new(
        OpId(format!("op-{id}")),
        device(device_name),
        dream_id,
        base,
        change,
        at(10),
    )
}

pub fn upsert(id: &str, device_name: &str, base: Revision, dream: &Dream) -> Operation {
    Operation::upsert(
        OpId(format!("op-{id}")),
        device(device_name),
        base,
        dream.clone(),
        at(10),
    )
}

pub fn set_tags(
    id: &str,
    device_name: &str,
    dream_id: &str,
    base: Revision,
    tags: &[&str],
) -> Operation {
    let tags = tags.iter().map(|tag| tag.to_string()).collect();
    op(
        id,
        device_name,
        dream_id,
        base,
        DreamChange::SetTags { tags },
    )
}

pub fn set_notes(
    id: &str,
    device_name: &str,
    dream_id: &str,
    base: Revision,
    notes: &str,
) -> Operation {
    op(
        id,
        device_name,
        dream_id,
        base,
        DreamChange::SetNotes {
            notes: notes.to_string(),
        },
    )
}

pub fn delete(id: &str, device_name: &str, dream_id: &str, base: Revision) -> Operation {
    op(id, device_name, dream_id, base, DreamChange::Delete)
}

/// Runs a future that never waits (the in-memory stores').
pub fn run<F: std::future::Future>(future: F) -> F::Output {
    pollster::block_on(future)
}
