// The list's first page read straight from the worker's IndexedDB (one extension origin, one
// database), for when Chrome has stopped the worker: waking it and loading its wasm takes
// ~80 ms, this read ~20 ms. It answers exactly what the worker answers to the same request
// (tests/e2e/popup.test.js compares the two); crates/library/src/store.rs and
// extension/store/src/idb_store.rs define the schema read here.
export const DATABASE = 'dreamcatcher';
export const SCHEMA_VERSION = 2;

/** Resolves to the worker's `dream_page` answer for the newest `limit` dreams, unfiltered. */
export function firstPageFromDatabase(limit, database = DATABASE, version = SCHEMA_VERSION) {
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open(database, version);
    // Creating or migrating the database is the worker's job: a missing or older one is left
    // as it is (aborting the upgrade fails this open), and the worker's answer is awaited.
    opening.onupgradeneeded = () => opening.transaction.abort();
    opening.onerror = () => reject(opening.error);
    opening.onblocked = () => reject(new Error('the database is being upgraded'));
    opening.onsuccess = () => {
      const db = opening.result;
      const read = db.transaction(['summaries', 'meta'], 'readonly');
      const page = { type: 'dream_page', total: undefined, offset: 0, items: [] };
      read.objectStore('meta').get('dream_count').onsuccess = (event) => {
        page.total = event.target.result;
      };
      read.objectStore('summaries').index('updated').openCursor(null, 'prev').onsuccess = (event) => {
        const cursor = event.target.result;
        if (!cursor || page.items.length >= limit) return;
        page.items.push(JSON.parse(cursor.value.data));
        cursor.continue();
      };
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
    };
  });
}
