// The benchmark's peer for the popup's first page: what a hand-written JavaScript popup would
// do over the extension's own IndexedDB (the newest 50 summaries, one row each), with no
// framework and no wasm. Copied into the benchmark's copy of the extension only.
const request = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });

const db = await request(indexedDB.open('dreamcatcher'));
const rows = await new Promise((ok, fail) => {
  const out = [];
  const cursor = db.transaction('summaries').objectStore('summaries').index('updated').openCursor(null, 'prev');
  cursor.onsuccess = () => {
    const at = cursor.result;
    if (!at || out.length === 50) return ok(out);
    out.push(JSON.parse(at.value.data));
    at.continue();
  };
  cursor.onerror = () => fail(cursor.error);
});
const list = document.querySelector('.list');
for (const summary of rows) {
  const row = document.createElement('div');
  row.className = 'row';
  const title = document.createElement('div');
  title.className = 'title';
  title.textContent = summary.title;
  const meta = document.createElement('div');
  meta.className = 'meta';
  meta.textContent = `${summary.site} · ${summary.updated_at.slice(0, 10)} · ${summary.message_count} messages`;
  row.append(title, meta);
  list.append(row);
}
db.close();
