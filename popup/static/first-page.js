// The list's first page, asked for while the popup's HTML is still being parsed (a classic
// script: it runs before any module has loaded), so the answer is there when the wasm is.
// A running worker answers in a few milliseconds. A worker Chrome has stopped (after 30 s idle,
// the usual case for a popup) needs ~80 ms to wake and load its wasm, so then the page is read
// from the worker's IndexedDB directly (one extension origin, one database) and the worker is
// asked only if that fails; a running worker that has not answered within 20 ms (busy with
// other work) races the same read. The popup's first list takes the answer (popup/src/worker.rs,
// whose tests keep the request equal to the popup's own and the schema version the library's;
// tests/e2e/popup.test.js compares this read with the worker's answer).
'use strict';
{
  const DATABASE = 'dreamcatcher';
  const SCHEMA_VERSION = 2;
  const request = {"type":"list_dreams","offset":0,"limit":50,"filter":{}};
  /** How long a running worker has to answer before the database is read as well. */
  const WORKER_PATIENCE_MS = 20;

  /** The database at this schema version: never created or migrated here (that is the
   * worker's job), so a missing or older one fails the open and is left as it is. */
  const open = (database, version) => new Promise((resolve, reject) => {
    const opening = indexedDB.open(database, version);
    opening.onupgradeneeded = () => opening.transaction.abort();
    opening.onerror = () => reject(opening.error);
    opening.onblocked = () => reject(new Error('the database is being upgraded'));
    opening.onsuccess = () => resolve(opening.result);
  });

  /** The worker's `dream_page` answer for the newest `limit` dreams, unfiltered, read in one
   * transaction; closes the database. */
  const readPage = (db, limit) => new Promise((resolve, reject) => {
    const read = db.transaction(['summaries', 'meta'], 'readonly');
    const page = { type: 'dream_page', total: undefined, offset: 0, items: [] };
    read.objectStore('meta').get('dream_count').onsuccess = (event) => {
      page.total = event.target.result;
    };
    // The list's order (crates/library/src/store.rs, newest_first) is this index backwards.
    const index = read.objectStore('summaries').index('updated');
    if (typeof index.getAllRecords === 'function') {
      // One round trip (Chrome 141+) instead of a cursor's several.
      index.getAllRecords({ direction: 'prev', count: limit }).onsuccess = (event) => {
        page.items = event.target.result.map((record) => JSON.parse(record.value.data));
      };
    } else {
      index.openCursor(null, 'prev').onsuccess = (event) => {
        const cursor = event.target.result;
        if (!cursor || page.items.length >= limit) return;
        page.items.push(JSON.parse(cursor.value.data));
        cursor.continue();
      };
    }
    read.oncomplete = () => {
      db.close();
      // Without the kept count (a database from before it), only the worker can count.
      if (typeof page.total === 'number') resolve(page);
      else reject(new Error('the dream count is not stored yet'));
    };
    read.onabort = () => {
      db.close();
      reject(read.error);
    };
  });

  const fromDatabase = (limit, database = DATABASE, version = SCHEMA_VERSION) =>
    open(database, version).then((db) => readPage(db, limit));

  // Opened while Chrome says whether the worker runs (the look comes before any message: a
  // message itself starts a stopped worker). A failed open is handled where it is used; the
  // empty handler only keeps it from being reported as unhandled before then.
  const opened = open(DATABASE, SCHEMA_VERSION);
  opened.catch(() => {});
  const fromOpened = () => opened.then((db) => readPage(db, request.limit));
  const fromWorker = () => chrome.runtime.sendMessage(request);
  globalThis.dreamcatcherFirstPage = chrome.runtime.getContexts({ contextTypes: ['BACKGROUND'] })
    .then((running) => {
      if (running.length === 0) return fromOpened().catch(fromWorker);
      // A running worker answers within a few milliseconds, unless it is busy with other work
      // (an import step, loading every summary for the filter menus): then the database is
      // read as well, and the first answer is shown.
      const worker = fromWorker();
      const answered = worker.then(() => true, () => false);
      const late = new Promise((resolve) => setTimeout(resolve, WORKER_PATIENCE_MS, false));
      return Promise.race([answered, late]).then((inTime) => {
        if (inTime) {
          opened.then((db) => db.close(), () => {});
          return worker;
        }
        return Promise.any([worker, fromOpened()])
          // When both fail, the worker's failure is the one to tell.
          .catch((failed) => Promise.reject(failed.errors[0]));
      });
    });
  // For the end-to-end test that compares this read with the worker's answer.
  globalThis.dreamcatcherFirstPageReader = { fromDatabase, schemaVersion: SCHEMA_VERSION };
}
