//! Connected mode natively: libraries on in-memory stores, each driving the real sync client,
//! against the sync crate's service core over an in-process "network" that delivers every
//! message at once. Checks that local changes reach the service exactly once (also across a
//! worker restart), that the service's events change the other device's library, that
//! concurrent edits end as conflict copies on both, and that implementation events land.

use chrono::{TimeZone, Utc};
use futures::executor::block_on;

use dreamcatcher_library::api::{ImplementationState, Mode};
use dreamcatcher_library::{DreamStore, Library, MemoryStore, SyncLink};
use dreamcatcher_model::{Conversation, Message, Role, Site, Timestamp};
use dreamcatcher_sync::server::{
    MemoryServerStore, ServerConnection, TokenTable, UserId, publish_event,
};
use dreamcatcher_sync::{
    ClientCommand, ClientInput, ConnectionId, DeviceId, RandomSource, ServerEvent, SyncClient,
    SyncClientConfig,
};

fn at(seconds: i64) -> Timestamp {
    Utc.timestamp_opt(1_763_000_000 + seconds, 0).unwrap()
}

struct Counter(u64);

impl RandomSource for Counter {
    fn next_u64(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
}

fn conversation(site_id: &str, title: &str, answers: usize) -> Conversation {
    let mut conversation = Conversation::new(Site::Chatgpt, Some(site_id.into()), title);
    conversation.messages.push(Message::new(Role::User, format!("How about {title}?")));
    for n in 0..answers {
        conversation
            .messages
            .push(Message::new(Role::Assistant, format!("Answer {n} on {title}.")));
    }
    conversation
}

/// One browser: its library, its sync client (while the "worker" lives) and its connection.
struct Device {
    library: Library<MemoryStore>,
    client: Option<SyncClient<Counter>>,
    connection: Option<(ConnectionId, ServerConnection)>,
    token: String,
}

struct World {
    server: MemoryServerStore,
    tokens: TokenTable,
    now: i64,
}

impl World {
    fn new(tokens: &[(&str, &str)]) -> Self {
        let mut table = TokenTable::new();
        for (token, user) in tokens {
            table = table.with_token(*token, UserId((*user).into()));
        }
        World {
            server: MemoryServerStore::new(),
            tokens: table,
            now: 100,
        }
    }

    fn tick(&mut self) -> Timestamp {
        self.now += 1;
        at(self.now)
    }
}

impl Device {
    fn new(token: &str) -> Self {
        Device {
            library: block_on(Library::open(MemoryStore::new())).unwrap(),
            client: None,
            connection: None,
            token: token.into(),
        }
    }

    fn pair(&mut self, device: &str, now: Timestamp) {
        let link = SyncLink {
            server_url: "http://127.0.0.1:8787".into(),
            device_token: self.token.clone(),
            device_name: device.into(),
            paired_at: now,
        };
        block_on(self.library.pair(link, DeviceId(format!("dev-{device}")), now)).unwrap();
    }

    /// Starts the worker's sync client from what is stored, as the extension does.
    fn start(&mut self, world: &mut World) {
        let (operations, cursor) = block_on(self.library.sync_resume_state()).unwrap();
        self.library.take_recorded_operations();
        let mut client = SyncClient::restore(
            SyncClientConfig::new(self.token.clone()),
            operations,
            cursor,
            Counter(7),
        );
        let commands = client.handle(world.tick(), ClientInput::Start);
        self.client = Some(client);
        self.carry_out(world, commands);
    }

    /// The worker died: everything in memory is gone, the store stays.
    fn restart(&mut self) {
        let store = self.library.store().durable_copy();
        self.library = block_on(Library::open(store)).unwrap();
        self.client = None;
        self.connection = None;
    }

    fn input(&mut self, world: &mut World, input: ClientInput) {
        let now = world.tick();
        let commands = self.client.as_mut().unwrap().handle(now, input);
        self.carry_out(world, commands);
    }

    /// Hands recorded operations to the client (the extension does this after each request).
    fn flush(&mut self, world: &mut World) {
        for operation in self.library.take_recorded_operations() {
            if self.client.is_some() {
                self.input(world, ClientInput::OperationRecorded(operation));
            }
        }
    }

    fn carry_out(&mut self, world: &mut World, commands: Vec<ClientCommand>) {
        let now = world.tick();
        let rest = block_on(self.library.run_sync_commands(commands, now)).unwrap();
        for command in rest {
            match command {
                ClientCommand::OpenConnection(id) => {
                    self.connection = Some((id, ServerConnection::new()));
                    self.input(world, ClientInput::ConnectionOpened(id));
                }
                ClientCommand::Send { connection, text } => {
                    let Some((id, mut server_side)) = self.connection.take() else {
                        continue;
                    };
                    assert_eq!(id, connection);
                    let reply =
                        block_on(server_side.handle_text(&text, &world.server, &world.tokens))
                            .unwrap();
                    let mut replies: Vec<String> =
                        reply.messages.iter().map(|m| m.to_json()).collect();
                    while let Some(events) =
                        block_on(server_side.next_events(&world.server)).unwrap()
                    {
                        replies.push(events.to_json());
                    }
                    self.connection = Some((id, server_side));
                    for text in replies {
                        self.input(world, ClientInput::MessageReceived(id, text));
                    }
                }
                ClientCommand::CloseConnection(_) => self.connection = None,
                _ => {}
            }
        }
    }

    /// Delivers events recorded since this device last heard (another device's changes).
    fn receive(&mut self, world: &mut World) {
        let Some((id, mut server_side)) = self.connection.take() else {
            return;
        };
        let mut texts = Vec::new();
        while let Some(events) = block_on(server_side.next_events(&world.server)).unwrap() {
            texts.push(events.to_json());
        }
        self.connection = Some((id, server_side));
        for text in texts {
            self.input(world, ClientInput::MessageReceived(id, text));
        }
    }

    fn pending(&self) -> usize {
        block_on(self.library.store().outbox()).unwrap().len()
    }

    fn titles(&mut self) -> Vec<String> {
        let mut titles: Vec<String> = block_on(self.library.store().all_dreams())
            .unwrap()
            .into_iter()
            .map(|d| d.conversation.title)
            .collect();
        titles.sort();
        titles
    }
}

fn server_dreams(world: &World, user: &str) -> Vec<(String, u64)> {
    let data = world.server.user_data(&UserId(user.into()));
    let mut live: Vec<(String, u64)> = data
        .dreams
        .values()
        .filter_map(|state| {
            state
                .live_dream()
                .map(|d| (d.conversation.title.clone(), state.revision))
        })
        .collect();
    live.sort();
    live
}

#[test]
fn offline_captures_reach_the_service_once_and_the_other_device_receives_them() {
    let mut world = World::new(&[("token-a", "ann"), ("token-b", "ann")]);
    let mut laptop = Device::new("token-a");
    // Captured before pairing: pairing queues the existing library.
    block_on(laptop.library.capture(vec![conversation("c1", "Borrow checker", 1)], at(1))).unwrap();
    block_on(laptop.library.set_tags(&laptop_id("c1"), vec!["rust".into()], at(2))).unwrap();
    assert_eq!(laptop.pending(), 0, "standalone mode records no operations");
    laptop.pair("laptop", at(3));
    assert_eq!(laptop.library.settings().mode, Mode::Connected);
    assert_eq!(laptop.pending(), 2, "upload of the dream and of its tags");
    block_on(laptop.library.capture(vec![conversation("c2", "Async traits", 2)], at(4))).unwrap();
    assert_eq!(laptop.pending(), 3);

    laptop.start(&mut world);
    assert_eq!(laptop.pending(), 0, "every operation acknowledged");
    assert_eq!(
        server_dreams(&world, "ann"),
        vec![("Async traits".to_string(), 1), ("Borrow checker".to_string(), 1)],
        "the upload carried the tags, so the tag operation changed nothing"
    );

    let mut desktop = Device::new("token-b");
    desktop.pair("desktop", at(5));
    desktop.start(&mut world);
    assert_eq!(desktop.titles(), vec!["Async traits", "Borrow checker"]);
    let borrowed = block_on(desktop.library.get_dream(&laptop_id("c1"))).unwrap();
    assert_eq!(borrowed.tags, vec!["rust"]);
    let hits = block_on(desktop.library.search("borrow", 0, 10, &Default::default(), at(6))).unwrap();
    assert_eq!(hits.total, 1, "synced dreams are searchable");

    // An edit on one device shows on the other, live.
    block_on(desktop.library.set_notes(&laptop_id("c2"), "use async-trait before 1.75".into(), at(7))).unwrap();
    desktop.flush(&mut world);
    laptop.receive(&mut world);
    let notes = block_on(laptop.library.get_dream(&laptop_id("c2"))).unwrap().notes;
    assert_eq!(notes, "use async-trait before 1.75");

    // A delete too.
    block_on(laptop.library.delete(&laptop_id("c1"), at(8))).unwrap();
    laptop.flush(&mut world);
    desktop.receive(&mut world);
    assert_eq!(desktop.titles(), vec!["Async traits"]);
    assert_eq!(server_dreams(&world, "ann"), vec![("Async traits".to_string(), 2)]);
}

fn laptop_id(site_id: &str) -> String {
    conversation(site_id, "", 0).id
}

#[test]
fn a_worker_stopped_before_the_ack_resends_and_the_service_applies_once() {
    let mut world = World::new(&[("token-a", "ann")]);
    let mut device = Device::new("token-a");
    device.pair("laptop", at(1));
    let batch: Vec<Conversation> = (0..30)
        .map(|n| conversation(&format!("k{n}"), &format!("Note {n}"), 1))
        .collect();
    block_on(device.library.capture(batch, at(2))).unwrap();
    assert_eq!(device.pending(), 30);
    // The worker dies with the operations stored but unsent, twice.
    device.restart();
    device.restart();
    device.start(&mut world);
    assert_eq!(device.pending(), 0);
    // The worker dies after sending, before hearing the acks: the store still holds them
    // (the copy is taken before the acks are applied), so they are sent again.
    block_on(device.library.capture(vec![conversation("late", "Late one", 1)], at(3))).unwrap();
    let before_ack = device.library.store().durable_copy();
    device.flush(&mut world);
    assert_eq!(device.pending(), 0);
    device.library = block_on(Library::open(before_ack)).unwrap();
    device.client = None;
    assert_eq!(device.pending(), 1);
    device.start(&mut world);
    assert_eq!(device.pending(), 0);
    let data = world.server.user_data(&UserId("ann".into()));
    assert_eq!(server_dreams(&world, "ann").len(), 31, "each capture once");
    assert!(data.dreams.values().all(|state| state.revision == 1), "nothing applied twice");
    assert_eq!(device.titles().len(), 31);
}

#[test]
fn concurrent_edits_become_a_conflict_copy_on_both_devices() {
    let mut world = World::new(&[("token-a", "ann"), ("token-b", "ann")]);
    let mut laptop = Device::new("token-a");
    let mut desktop = Device::new("token-b");
    block_on(laptop.library.capture(vec![conversation("c1", "Shared", 1)], at(1))).unwrap();
    laptop.pair("laptop", at(2));
    laptop.start(&mut world);
    desktop.pair("desktop", at(3));
    desktop.start(&mut world);
    let id = laptop_id("c1");
    // Both edit the notes without hearing of the other's edit: the laptop offline.
    laptop.restart();
    block_on(laptop.library.set_notes(&id, "laptop's notes".into(), at(4))).unwrap();
    block_on(desktop.library.set_notes(&id, "desktop's notes".into(), at(5))).unwrap();
    desktop.flush(&mut world);
    // Back online, the laptop first catches up (the desktop's edit arrives while its own is
    // still unsent), then pushes its edit, which the service keeps as a copy.
    laptop.start(&mut world);
    desktop.receive(&mut world);
    laptop.receive(&mut world);

    for device in [&mut laptop, &mut desktop] {
        assert_eq!(device.pending(), 0);
        assert_eq!(device.titles(), vec!["Shared", "Shared (conflict copy)"]);
        let original = block_on(device.library.get_dream(&id)).unwrap();
        assert_eq!(original.notes, "desktop's notes", "the first edit to arrive stays");
    }
    let copy_notes: Vec<String> = block_on(laptop.library.store().all_dreams())
        .unwrap()
        .into_iter()
        .filter(|d| d.id() != id)
        .map(|d| d.notes)
        .collect();
    assert_eq!(copy_notes, vec!["laptop's notes"], "the losing edit is kept, not dropped");
    let overview = block_on(laptop.library.sync_overview(None)).unwrap();
    assert!(
        overview.notices.iter().any(|n| n.contains("conflict copy") || n.contains("kept as")),
        "{:?}",
        overview.notices
    );
}

#[test]
fn implementation_events_update_the_dream_and_unpairing_keeps_everything() {
    let mut world = World::new(&[("token-a", "ann")]);
    let mut device = Device::new("token-a");
    block_on(device.library.capture(vec![conversation("c1", "Build me a CLI", 1)], at(1))).unwrap();
    device.pair("laptop", at(2));
    device.start(&mut world);
    let id = laptop_id("c1");
    let user = UserId("ann".into());
    block_on(publish_event(
        &world.server,
        &user,
        ServerEvent::ProjectCreated {
            dream_id: id.clone(),
            project: serde_json::json!({"id": "proj-1", "status": "queued"}),
        },
    ))
    .unwrap();
    device.receive(&mut world);
    let stored = block_on(device.library.get_stored(&id)).unwrap();
    let implementation = stored.implementation.unwrap();
    assert_eq!(implementation.state, ImplementationState::InProgress);
    assert_eq!(implementation.project.unwrap()["id"], "proj-1");
    block_on(publish_event(
        &world.server,
        &user,
        ServerEvent::ImplementationCompleted {
            dream_id: id.clone(),
            result: serde_json::json!({"status": "succeeded", "pull_request": "https://example.org/pr/1"}),
        },
    ))
    .unwrap();
    device.receive(&mut world);
    let stored = block_on(device.library.get_stored(&id)).unwrap();
    assert_eq!(stored.implementation.unwrap().state, ImplementationState::Completed);
    assert!(stored.revision >= 1, "the revision the service gave is kept");

    // Unpair while offline with a change waiting: the change stays for the next pairing.
    device.connection = None;
    block_on(device.library.set_tags(&id, vec!["cli".into()], at(3))).unwrap();
    assert_eq!(device.pending(), 1);
    block_on(device.library.unpair()).unwrap();
    assert_eq!(device.library.settings().mode, Mode::Standalone);
    assert!(device.library.sync_link().is_none());
    block_on(device.library.set_notes(&id, "offline note".into(), at(4))).unwrap();
    assert_eq!(device.pending(), 1, "standalone changes are not recorded");
    device.restart();
    assert!(device.library.sync_link().is_none(), "unpairing is stored");
    device.pair("laptop", at(5));
    device.start(&mut world);
    assert_eq!(device.pending(), 0);
    let data = world.server.user_data(&user);
    let state = data.dreams.get(&id).unwrap();
    let dream = state.live_dream().unwrap();
    assert_eq!(dream.tags, vec!["cli"]);
    assert_eq!(dream.notes, "offline note", "pairing again sends what changed meanwhile");
}
