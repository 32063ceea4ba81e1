// The benchmark page: our wasm (bench/wasm/pkg) and the JavaScript peers (turndown + gfm,
// MiniSearch, FlexSearch, plain IndexedDB) loaded side by side. The harness (compare.js)
// calls `globalThis.bench.*`, one run per call, so it can stop between runs at its time limits.
import init, { BenchIndex, capture_page, capture_page_json, html_to_markdown } from '/pkg/dreamcatcher_bench_wasm.js';
import MiniSearch from '/node_modules/minisearch/dist/es/index.js';
import { Document as FlexDocument } from '/node_modules/flexsearch/dist/flexsearch.bundle.module.min.mjs';
import TurndownService from '/node_modules/turndown/lib/turndown.browser.es.js';
import { gfm } from '/node_modules/turndown-plugin-gfm/lib/turndown-plugin-gfm.browser.es.js';
import { chatgptPage } from '/bench/generate.js';
import { corpusQueries, fragmentCorpus, fragmentText } from '/bench/corpus.js';

const NOW_MS = Date.UTC(2026, 10, 1);
const pages = new Map();

// Message bodies as each layout marks them (docs/sites.md): what turndown is given.
const BODY_SELECTOR = [
  '[data-message-author-role] .markdown', '[data-message-author-role="user"] .whitespace-pre-wrap',
  '[data-markdown-text-style="assistant-message"]', '[data-user-message-bubble] .whitespace-pre-wrap',
  '[data-testid="user-message"]', '.font-claude-response .standard-markdown', '[data-cds="Prose"] .standard-markdown',
  '.standard-markdown',
].join(', ');

function newTurndown() {
  const service = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced' });
  service.use(gfm);
  return service;
}

/** Letters and digits only, lowercased: Markdown dialects agree on this much. */
const normalised = (text) => (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).join(' ');

const utf8Bytes = (text) => new TextEncoder().encode(text).length;

const search = { contestant: null, index: null, serialised: null, options: null, fragments: null, queries: null };

globalThis.bench = {
  ready: init().then(() => true),

  /** Keeps a page's HTML in the tab (the harness sends each once). */
  addPage(key, html) {
    pages.set(key, html);
    return utf8Bytes(html);
  },

  generatePage(key, turns, seed) {
    const page = chatgptPage({ turns, seed });
    pages.set(key, page.html);
    return { bytes: utf8Bytes(page.html), messages: page.messages, codeBlocks: page.codeBlocks };
  },

  /** Ours, one run: the worker's page route, HTML string in, Conversation (counts) out. */
  captureOurs(key, url) {
    const html = pages.get(key);
    const t0 = performance.now();
    const counts = JSON.parse(capture_page(html, url));
    return { ms: performance.now() - t0, ...counts };
  },

  /** Peer, one run: the page parsed by the browser, then turndown + gfm on every message
   * body. `parseMs` is the DOMParser share (a content script gets the live DOM for free). */
  captureTurndown(key) {
    const html = pages.get(key);
    const t0 = performance.now();
    const doc = new DOMParser().parseFromString(html, 'text/html');
    const t1 = performance.now();
    const service = newTurndown();
    const bodies = [...doc.querySelectorAll(BODY_SELECTOR)].filter((el, _, all) => !all.some((o) => o !== el && o.contains(el)));
    let markdownBytes = 0;
    for (const body of bodies) markdownBytes += service.turndown(body).length;
    const t2 = performance.now();
    return { ms: t2 - t0, parseMs: t1 - t0, turndownMs: t2 - t1, messages: bodies.length, markdown_bytes: markdownBytes };
  },

  /** Same input, both outputs: messages whose text (letters and digits) is equal. */
  compareCapture(key, url) {
    const html = pages.get(key);
    const ours = JSON.parse(capture_page_json(html, url)).messages.map((m) => m.markdown);
    const doc = new DOMParser().parseFromString(html, 'text/html');
    const service = newTurndown();
    const theirs = [...doc.querySelectorAll(BODY_SELECTOR)].filter((el, _, all) => !all.some((o) => o !== el && o.contains(el)))
      .map((body) => service.turndown(body));
    let equal = 0;
    const n = Math.min(ours.length, theirs.length);
    for (let i = 0; i < n; i++) if (normalised(ours[i]) === normalised(theirs[i])) equal += 1;
    const oursText = ours.map(normalised).join(' ').length;
    const theirsText = theirs.map(normalised).join(' ').length;
    return { ours: ours.length, theirs: theirs.length, equal, oursText, theirsText };
  },

  /** turndown's own suite (index.html, gfm.html): cases with default options, or options
   * that only choose ATX headings / ``` fences; expected Markdown compared exactly. */
  turndownSuite(files) {
    const out = { ours: 0, turndown: 0, total: 0 };
    for (const source of files) {
      const doc = new DOMParser().parseFromString(source, 'text/html');
      for (const kase of doc.querySelectorAll('div.case[data-name]')) {
        const raw = (kase.getAttribute('data-options') || '').trim();
        let options = {};
        if (raw) {
          try { options = JSON.parse(raw); } catch { continue; }
          const ourStyle = Object.entries(options).every(([k, v]) =>
            (k === 'headingStyle' && v === 'atx') || (k === 'codeBlockStyle' && v === 'fenced') || (k === 'fence' && v === '```'));
          if (!ourStyle) continue;
        }
        const input = kase.querySelector('.input');
        const expectedEl = kase.querySelector('pre.expected');
        if (!input || !expectedEl) continue;
        const expected = expectedEl.textContent.replace(/^\n/, '');
        const service = new TurndownService(options);
        service.use(gfm);
        out.total += 1;
        if (service.turndown(input.innerHTML) === expected) out.turndown += 1;
        if (html_to_markdown(input.innerHTML) === expected) out.ours += 1;
      }
    }
    return out;
  },

  /** Fresh search state for one contestant: the corpus (and the fixtures' messages,
   * captured by our converter, as extra fragments for everyone) and the queries. */
  searchSetup(contestant, fixtureKeys) {
    const fragments = fragmentCorpus();
    const queries = corpusQueries(fragments);
    let conversation = 1_000_000;
    for (const [key, url] of fixtureKeys) {
      let parsed;
      try { parsed = JSON.parse(capture_page_json(pages.get(key), url)); } catch { continue; }
      conversation += 1;
      for (const m of parsed.messages) fragments.push({ conversation, title: parsed.title, language: '', prose: m.markdown, code: '' });
    }
    Object.assign(search, { contestant, index: null, serialised: null, fragments, queries });
    if (contestant === 'ours') {
      search.ours = new BenchIndex(JSON.stringify(fragments), NOW_MS);
    } else {
      search.docs = fragments.map((f, id) => ({ id, title: f.title, language: f.language, text: fragmentText(f) }));
    }
    return { fragments: fragments.length, bytes: fragments.reduce((s, f) => s + utf8Bytes(fragmentText(f)), 0), queries: queries.length };
  },

  async searchBuild() {
    const t0 = performance.now();
    if (search.contestant === 'ours') {
      search.ours.build();
    } else if (search.contestant === 'minisearch') {
      search.options = { fields: ['title', 'language', 'text'], searchOptions: { prefix: true } };
      search.index = new MiniSearch(search.options);
      search.index.addAll(search.docs);
    } else {
      // Prefix search on: FlexSearch's "forward" tokenizer indexes every word's prefixes.
      search.options = { tokenize: 'forward', document: { id: 'id', index: ['title', 'language', 'text'] } };
      search.index = new FlexDocument(search.options);
      for (const doc of search.docs) search.index.add(doc);
    }
    return { ms: performance.now() - t0 };
  },

  /** Serialises the index as it would be stored; `bytes` is the UTF-8 (or binary) size. */
  async searchSerialise() {
    const t0 = performance.now();
    if (search.contestant === 'ours') {
      search.serialised = search.ours.snapshot();
    } else if (search.contestant === 'minisearch') {
      search.serialised = JSON.stringify(search.index);
    } else {
      const parts = [];
      await search.index.export((key, data) => { parts.push([key, data]); });
      search.serialised = parts;
    }
    const ms = performance.now() - t0;
    const s = search.serialised;
    const bytes = s instanceof Uint8Array ? s.length
      : typeof s === 'string' ? utf8Bytes(s)
        : s.reduce((sum, [k, d]) => sum + utf8Bytes(String(k)) + (d == null ? 0 : utf8Bytes(String(d))), 0);
    return { ms, bytes };
  },

  async searchRestore() {
    const t0 = performance.now();
    if (search.contestant === 'ours') {
      search.ours.restore(search.serialised);
    } else if (search.contestant === 'minisearch') {
      search.index = MiniSearch.loadJSON(search.serialised, search.options);
    } else {
      const fresh = new FlexDocument(search.options);
      for (const [key, data] of search.serialised) await fresh.import(key, data);
      search.index = fresh;
    }
    return { ms: performance.now() - t0 };
  },

  /** Queries `from`..`to` of the list (top 10 each): latencies and whether each was
   * answered. The harness calls it in slices, so a time limit can stop between them. */
  searchQueries(from, to) {
    const times = [];
    const answered = {};
    for (const { kind, query } of search.queries.slice(from, to)) {
      const t0 = performance.now();
      let hits;
      if (search.contestant === 'ours') {
        hits = search.ours.search(query, 10).length;
      } else if (search.contestant === 'minisearch') {
        hits = search.index.search(query).slice(0, 10).length;
      } else {
        const ids = new Set();
        for (const field of search.index.search(query, { limit: 10 })) for (const id of field.result) ids.add(id);
        hits = Math.min(10, ids.size);
      }
      times.push(performance.now() - t0);
      answered[kind] ??= { answered: 0, total: 0 };
      answered[kind].total += 1;
      if (hits > 0) answered[kind].answered += 1;
    }
    return { times, answered };
  },

  /** Plain IndexedDB, one readwrite transaction per conversation (the baseline users
   * would write), into a fresh database. `exportJson`: the same file ours imports. */
  async idbImport(exportJson) {
    const conversations = JSON.parse(exportJson);
    await new Promise((ok, fail) => {
      const r = indexedDB.deleteDatabase('baseline');
      r.onsuccess = ok; r.onerror = () => fail(r.error); r.onblocked = ok;
    });
    const t0 = performance.now();
    const db = await new Promise((ok, fail) => {
      const r = indexedDB.open('baseline', 1);
      r.onupgradeneeded = () => r.result.createObjectStore('conversations', { keyPath: 'id' }).createIndex('updated', 'update_time');
      r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error);
    });
    for (const conversation of conversations) {
      await new Promise((ok, fail) => {
        const tx = db.transaction('conversations', 'readwrite');
        tx.objectStore('conversations').put(conversation);
        tx.oncomplete = ok; tx.onerror = () => fail(tx.error);
      });
    }
    const ms = performance.now() - t0;
    db.close();
    return { ms, records: conversations.length };
  },

  /** The baseline's first page: newest 50 through the index, rendered as list rows, to the
   * frame after. */
  async idbFirstPage() {
    const list = document.getElementById('list');
    list.replaceChildren();
    const t0 = performance.now();
    const db = await new Promise((ok, fail) => {
      const r = indexedDB.open('baseline', 1);
      r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error);
    });
    const rows = await new Promise((ok, fail) => {
      const out = [];
      const r = db.transaction('conversations').objectStore('conversations').index('updated').openCursor(null, 'prev');
      r.onsuccess = () => {
        const cursor = r.result;
        if (!cursor || out.length === 50) return ok(out);
        out.push(cursor.value);
        cursor.continue();
      };
      r.onerror = () => fail(r.error);
    });
    for (const c of rows) {
      const li = document.createElement('li');
      li.textContent = `${c.title} · ${new Date(c.update_time * 1000).toISOString().slice(0, 10)}`;
      list.append(li);
    }
    const rowMs = performance.now() - t0;
    await new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 0)));
    db.close();
    return { rowMs, paintedMs: performance.now() - t0, rows: rows.length };
  },
};
