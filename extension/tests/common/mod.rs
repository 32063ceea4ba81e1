//! The IndexedDB store exercised through the library, in whatever browser context the test
//! binary is configured for.

use dreamcatcher_extension::idb_store::IdbStore;
use dreamcatcher_library::api::DreamFilter;
use dreamcatcher_library::{DreamStore, Library, SyncLink};
use dreamcatcher_sync::{DeviceId, OperationOutcome, OperationResult};
use dreamcatcher_model::{CodeOrigin, Conversation, Message, Role, Site, Timestamp};

fn at(seconds: i64) -> Timestamp {
    chrono::DateTime::from_timestamp(1_763_000_000 + seconds, 0).unwrap_or_default()
}

fn conversation(site_id: &str, word: &str, code: &str) -> Conversation {
    let mut conversation =
        Conversation::new(Site::Chatgpt, Some(site_id.into()), format!("About {word}"));
    conversation
        .messages
        .push(Message::new(Role::User, format!("tell me about {word}")));
    let mut answer = Message::new(Role::Assistant, format!("{word} explained"));
    answer
        .fragments
        .code_blocks
        .push(dreamcatcher_fragments::code_block(
            "rust",
            code,
            CodeOrigin::Fence,
        ));
    conversation.messages.push(answer);
    conversation
}

/// The library over the named database, as a worker waking up opens it.
async fn open_library(name: &str) -> Library<IdbStore> {
    let store = IdbStore::open(name)
        .await
        .unwrap_or_else(|e| panic!("open {name}: {e}"));
    Library::open(store)
        .await
        .unwrap_or_else(|e| panic!("library over {name}: {e}"))
}

fn unique_name(test: &str) -> String {
    format!("dreamcatcher-test-{test}-{}", js_sys::Date::now())
}

async fn hits(library: &mut Library<IdbStore>, query: &str) -> usize {
    library
        .search(query, 0, 10, &DreamFilter::default(), at(10))
        .await
        .map(|page| page.hits.len())
        .unwrap_or(usize::MAX)
}

pub async fn stores_pages_and_survives_reopening() {
    let name = unique_name("reopen");
    let mut library = open_library(&name).await;
    let first = conversation("a", "quasar", "fn shared() {}");
    let second = conversation("b", "pulsar", "fn   shared() {}\n");
    library
        .capture(vec![first.clone()], at(0))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    library
        .capture(vec![second.clone()], at(5))
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let page = library
        .store()
        .page_summaries(0, 1)
        .await
        .unwrap_or_default();
    assert_eq!(
        page.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        vec![second.id.clone()],
        "newest first"
    );
    let (total, fragments) = library
        .store()
        .page_fragments(0, 10, Some("rust"))
        .await
        .unwrap_or_default();
    assert_eq!(total, 1, "one fragment for the same snippet");
    assert_eq!(fragments.first().map(|f| f.sources.len()), Some(2));

    library.save_index().await.unwrap_or_else(|e| panic!("{e}"));
    let token = library
        .delete(&first.id, at(6))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .undo_token;
    assert_eq!(hits(&mut library, "quasar").await, 0);
    library.store().close();

    // A new worker: the snapshot predates the deletion, which the tombstone replays.
    let mut library = open_library(&name).await;
    assert_eq!(hits(&mut library, "quasar").await, 0);
    assert_eq!(hits(&mut library, "pulsar").await, 1);
    library
        .undo_delete(&token, at(7))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(hits(&mut library, "quasar").await, 1);
    assert_eq!(library.unopened_count().await.unwrap_or_default(), 2);

    library.delete_all(at(8)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(library.store().count_dreams().await.unwrap_or(1), 0);
    assert_eq!(library.store().count_fragments().await.unwrap_or(1), 0);
    library.store().close();
}

/// Connected mode's outbox: written with the change, kept across a reopen (a new worker),
/// removed only by an acknowledgement.
pub async fn keeps_the_sync_outbox_with_the_changes() {
    let name = unique_name("outbox");
    let mut library = open_library(&name).await;
    let first = conversation("a", "nebula", "fn a() {}");
    library
        .capture(vec![first.clone()], at(0))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let link = SyncLink {
        server_url: "http://127.0.0.1:8787".into(),
        device_token: "token".into(),
        device_name: "test".into(),
        paired_at: at(1),
    };
    library
        .pair(link, DeviceId("dev-test".into()), at(1))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    library
        .set_tags(&first.id, vec!["space".into()], at(2))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let outbox = library.store().outbox().await.unwrap_or_default();
    assert_eq!(outbox.len(), 2, "the upload from pairing and the tag edit");
    assert!(outbox[0].position < outbox[1].position);
    assert_eq!(library.store().count_outbox().await.unwrap_or_default(), 2);
    let mine = library
        .store()
        .outbox_for_dreams(&[first.id.clone(), first.id.clone(), "dc-other".into()])
        .await
        .unwrap_or_default();
    assert_eq!(mine, outbox, "looked up by dream, in order, once each");
    library.store().close();

    let mut library = open_library(&name).await;
    assert!(library.sync_link().is_some(), "the pairing is stored");
    let (operations, cursor) = library
        .sync_resume_state()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((operations.len(), cursor), (2, 0));
    let acknowledged = OperationResult {
        op_id: operations[0].op_id.clone(),
        outcome: OperationOutcome::Duplicate,
    };
    library
        .acknowledge(&[acknowledged])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let left = library.store().outbox().await.unwrap_or_default();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].operation.op_id, operations[1].op_id);
    // Deleting everything keeps the outbox (the deletions still have to be sent).
    library.delete_all(at(3)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(library.store().outbox().await.unwrap_or_default().len(), 2);
    library.store().close();
}

/// The dream count kept with every write matches the dreams stored through recaptures,
/// deletes, undo and delete-all, and a database written before the count was kept is
/// counted when opened.
pub async fn keeps_the_dream_count() {
    let name = unique_name("count");
    let mut library = open_library(&name).await;
    let stored = async |library: &Library<IdbStore>| {
        let kept = library.store().count_dreams().await.unwrap_or(u32::MAX);
        let all = library.store().all_summaries().await.map(|s| s.len()).unwrap_or(usize::MAX);
        assert_eq!(kept as usize, all, "kept count vs the summaries stored");
        kept
    };
    let first = conversation("a", "quasar", "fn a() {}");
    library
        .capture(vec![first.clone(), conversation("b", "pulsar", "fn b() {}")], at(0))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored(&library).await, 2);
    library
        .capture(vec![first.clone()], at(1))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored(&library).await, 2, "a recapture is no new dream");
    let token = library
        .delete(&first.id, at(2))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .undo_token;
    assert_eq!(stored(&library).await, 1);
    library
        .undo_delete(&token, at(3))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored(&library).await, 2);

    // As a database from before the count: the key is gone, and opening counts again.
    library.store().close();
    let database = idb::Factory::new()
        .and_then(|factory| Ok(factory.open(&name, None)?))
        .unwrap_or_else(|e| panic!("{e}"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let transaction = database
        .transaction(&["meta"], idb::TransactionMode::ReadWrite)
        .unwrap_or_else(|e| panic!("{e}"));
    transaction
        .object_store("meta")
        .and_then(|meta| meta.delete(wasm_bindgen::JsValue::from_str("dream_count")))
        .unwrap_or_else(|e| panic!("{e}"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    transaction
        .commit()
        .unwrap_or_else(|e| panic!("{e}"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    database.close();
    let mut library = open_library(&name).await;
    assert_eq!(stored(&library).await, 2);

    library.delete_all(at(4)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored(&library).await, 0);
    library.store().close();
}
