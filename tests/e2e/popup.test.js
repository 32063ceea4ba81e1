// End-to-end: the popup and settings pages of the built extension, opened as extension pages
// in headless Chromium, over a library captured from the fake chat sites and imported.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  apiImport, artifactsDir, finalStatus, openPopup, openSettings, pageUrl, startSites, withBrowser,
} from './harness.js';

let sites;
before(async () => {
  sites = await startSites();
  mkdirSync(artifactsDir, { recursive: true });
});
after(async () => { await sites.close(); });

/** A Claude official export entry (the shape of conversations.json). */
export function claudeEntry(n, title, prompt, answer) {
  const uuid = `5e0c0000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const message = (id, sender, text, at) => ({
    uuid: `${uuid}-${id}`, sender, text, content: [{ type: 'text', text }], created_at: at,
  });
  return {
    uuid,
    name: title,
    created_at: '2026-10-01T10:00:00Z',
    updated_at: '2026-10-01T10:05:00Z',
    chat_messages: [
      message('q', 'human', prompt, '2026-10-01T10:00:00Z'),
      message('a', 'assistant', answer, '2026-10-01T10:00:05Z'),
    ],
  };
}

const PYTHON_CODE = 'def mean(xs):\n    return sum(xs) / len(xs)';
const LIBRARY = [
  claudeEntry(1, 'Retry with exponential backoff', 'How should a client retry failed calls?',
    'Retry with exponential backoff: wait, double the wait, retry again. Retry at most five times.'),
  claudeEntry(2, 'HTTP caching notes', 'What does Cache-Control do?',
    'It tells caches how long a response stays fresh; a client may retry a request when it is stale.'),
  claudeEntry(3, 'Mean of a list in Python', 'Average of numbers?', `Like this:\n\n\`\`\`python\n${PYTHON_CODE}\n\`\`\``),
];

async function capture(browser, id) {
  const page = sites.pages.find((p) => p.id === id);
  const tab = await browser.context.newPage();
  await tab.goto(pageUrl(page));
  await tab.locator('.dreamcatcher-capture').click();
  const status = await finalStatus(tab);
  assert.equal(status.kind, 'ok', status.text);
  await tab.close();
}

async function rowTitles(popup) {
  return (await popup.locator('.list .row:not(.placeholder) .row-title').allTextContents()).map((t) => t.replace(/^New: /, ''));
}

/** Waits until the list shows the answer for what is asked now (the status line names the
 * query at once; the rows follow when the list is no longer busy). */
async function listSettled(popup, query) {
  await popup.waitForFunction((q) => {
    const status = document.querySelector('.status-line')?.textContent ?? '';
    const list = document.querySelector('.list');
    const named = q ? status.includes(`“${q}”`) : !status.includes('“');
    return named && list?.getAttribute('aria-busy') === 'false' && !document.querySelector('.row.placeholder');
  }, query);
}

async function search(popup, text) {
  await popup.locator('.search').fill(text);
  await popup.locator('.search').press('Enter');
  await listSettled(popup, text.trim());
}

async function setFilter(popup, label, value) {
  await popup.locator('.filters').getByLabel(label).selectOption(value);
  await popup.waitForTimeout(50);
  await listSettled(popup, '');
}

describe('popup', () => {
  test('lists, searches ranked and highlighted, filters, copies, tags, notes, deletes and undoes', async () => {
    sites.mode.json = 'ok';
    await withBrowser(async (browser) => {
      await browser.context.grantPermissions(['clipboard-read', 'clipboard-write']);
      await capture(browser, 'page-chatgpt-2026-09');
      await capture(browser, 'page-claude-2026-10');
      const summary = await apiImport(browser, 'conversations.json', Buffer.from(JSON.stringify(LIBRARY)));
      assert.equal(summary.added, 3);
      // One dream last changed long ago, for the date filter: our own export, edited.
      const exported = await browser.api({ type: 'export', scope: { kind: 'all' }, format: 'json' });
      const library = JSON.parse(exported.text);
      const old = library.dreams.find((d) => d.conversation.title === 'HTTP caching notes');
      old.updated_at = '2024-01-15T09:00:00Z';
      const restored = await apiImport(browser, 'dreamcatcher-library.json', Buffer.from(JSON.stringify(library)));
      assert.equal(restored.updated, 1);

      const popup = await openPopup(browser);
      const titles = await rowTitles(popup);
      assert.equal(titles.length, 5, titles.join(' | '));
      assert.equal(await popup.locator('.status-line').textContent(), '5 dreams');
      assert.ok(titles.includes('Parsing TOML in Rust') && titles.includes('Retry helper in Go'), titles.join(' | '));
      assert.equal(titles.at(-1), 'HTTP caching notes', 'newest first: the old one last');
      await popup.screenshot({ path: join(artifactsDir, 'popup-list.png') });

      // Search: ranked (title and repeated words first), matches marked in title and snippet.
      await search(popup, 'retry');
      const ranked = await rowTitles(popup);
      assert.ok(ranked.length >= 3, ranked.join(' | '));
      assert.match(ranked[0], /^Retry /, ranked.join(' | '));
      assert.equal(ranked.at(-1), 'HTTP caching notes', `a passing mention ranks last: ${ranked.join(' | ')}`);
      const first = popup.locator('.list .row').first();
      assert.deepEqual((await first.locator('.row-title mark').allTextContents()).map((m) => m.toLowerCase()), ['retry']);
      const marks = await first.locator('.row-snippet mark').allTextContents();
      assert.ok(marks.length >= 1 && marks.every((m) => m.toLowerCase() === 'retry'), marks.join(','));
      await popup.screenshot({ path: join(artifactsDir, 'popup-search.png') });
      await search(popup, 'toml');
      assert.deepEqual(await rowTitles(popup), ['Parsing TOML in Rust']);
      assert.equal(await popup.locator('.status-line').textContent(), '1 result for “toml”');
      await search(popup, '');

      // Filters: site, language, date (and tag below, once one is set).
      await popup.locator('.filter-toggle').click();
      await setFilter(popup, 'Site', 'claude');
      const claude = await rowTitles(popup);
      assert.ok(claude.length === 4 && !claude.includes('Parsing TOML in Rust'), claude.join(' | '));
      await setFilter(popup, 'Site', '');
      await setFilter(popup, 'Language', 'python');
      assert.deepEqual(await rowTitles(popup), ['Mean of a list in Python']);
      await setFilter(popup, 'Language', '');
      await setFilter(popup, 'Date', 'month');
      const recent = await rowTitles(popup);
      assert.ok(recent.length === 4 && !recent.includes('HTTP caching notes'), recent.join(' | '));
      await setFilter(popup, 'Date', '');
      assert.equal((await rowTitles(popup)).length, 5);

      // The dream view: copy a code block, edit tags and notes.
      await popup.locator('.list .row', { hasText: 'Mean of a list in Python' }).click();
      const view = popup.locator('.dream-view');
      await view.locator('.messages').waitFor();
      assert.equal(await view.locator('#dream-title').textContent(), 'Mean of a list in Python');
      const block = view.locator('figure.code').first();
      assert.equal(await block.locator('.lang').textContent(), 'python');
      await block.locator('button.copy').click();
      await block.locator('button.copy', { hasText: 'Copied' }).waitFor();
      const copied = await popup.evaluate(() => navigator.clipboard.readText());
      assert.equal(copied.trimEnd(), PYTHON_CODE);

      await view.locator('.tag-input').fill('maths');
      await view.locator('.tag-input').press('Enter');
      await view.locator('.tag', { hasText: 'maths' }).waitFor();
      await view.locator('#dream-notes').fill('Check for empty lists first.');
      await view.getByRole('button', { name: 'Save notes' }).click();
      await view.locator('.notes-bar [role=status]', { hasText: 'Saved' }).waitFor();
      const id = (await browser.api({ type: 'search', query: 'mean python' })).hits[0].dream.id;
      const stored = (await browser.api({ type: 'get_dream', id })).dream;
      assert.deepEqual(stored.tags, ['maths']);
      assert.equal(stored.notes, 'Check for empty lists first.');
      assert.equal(stored.usage_count, 1, 'copying counts as a use');
      await popup.screenshot({ path: join(artifactsDir, 'popup-dream.png') });

      // Delete from the dream view, then Undo.
      await view.getByRole('button', { name: 'Delete' }).click();
      await popup.locator('.snackbar', { hasText: 'Deleted “Mean of a list in Python”' }).waitFor();
      await popup.waitForFunction(() => document.querySelectorAll('.list .row').length === 4);
      assert.ok(!(await rowTitles(popup)).includes('Mean of a list in Python'));
      assert.equal((await browser.api({ type: 'list_dreams' })).total, 4);
      await popup.locator('.snackbar .undo').click();
      await popup.locator('.snackbar', { hasText: 'Restored' }).waitFor();
      await popup.waitForFunction(() => document.querySelectorAll('.list .row').length === 5);
      const back = (await browser.api({ type: 'get_dream', id })).dream;
      assert.deepEqual([back.tags, back.notes], [['maths'], 'Check for empty lists first.'], 'undo keeps tags and notes');

      // The tag filter now offers the new tag.
      await setFilter(popup, 'Tag', 'maths');
      assert.deepEqual(await rowTitles(popup), ['Mean of a list in Python']);
    });
  });

  test('search results page through a large library', async () => {
    await withBrowser(async (browser) => {
      const entries = Array.from({ length: 130 }, (_, n) => claudeEntry(100 + n, `Kubernetes note ${n}`,
        `Question ${n} about pods`, `Kubernetes deployment note number ${n}.`));
      assert.equal((await apiImport(browser, 'conversations.json', Buffer.from(JSON.stringify(entries)))).added, 130);
      const answer = await browser.api({ type: 'search', query: 'kubernetes', offset: 100, limit: 50 });
      assert.equal(answer.type, 'search_results');
      assert.deepEqual([answer.total, answer.offset, answer.hits.length], [130, 100, 30]);

      const popup = await openPopup(browser);
      await search(popup, 'kubernetes');
      assert.equal(await popup.locator('.status-line').textContent(), '130 results for “kubernetes”');
      // Scroll to the end: the rows there are asked for page by page, like the browse list.
      await popup.locator('.list').evaluate((list) => { list.scrollTop = list.scrollHeight; });
      await popup.waitForFunction(() => {
        const rows = [...document.querySelectorAll('.list .row')];
        return rows.some((r) => r.id === 'row-129') && !rows.some((r) => r.classList.contains('placeholder'));
      });
      const last = await popup.locator('#row-129 .row-title mark').allTextContents();
      assert.deepEqual(last, ['Kubernetes']);
    });
  });

  test('the first page read from the database is the worker\'s own, and shows with the worker stopped', async () => {
    await withBrowser(async (browser) => {
      // Half the dreams share their last change (ties are ordered as the worker's index orders
      // them), the rest one minute apart.
      const entries = Array.from({ length: 64 }, (_, n) => {
        const entry = claudeEntry(300 + n, `Library note ${n}`, `Question ${n}`, `Answer number ${n}.`);
        if (n >= 32) entry.updated_at = `2026-10-02T${String(n - 32).padStart(2, '0')}:00:00Z`;
        return entry;
      });
      assert.equal((await apiImport(browser, 'conversations.json', Buffer.from(JSON.stringify(entries)))).added, 64);
      const popup = await openPopup(browser);
      const compared = await popup.evaluate(async () => {
        const { fromDatabase } = globalThis.dreamcatcherFirstPageReader;
        const out = [];
        for (const limit of [50, 7, 100]) {
          const worker = await chrome.runtime.sendMessage({ type: 'list_dreams', offset: 0, limit, filter: {} });
          const database = await fromDatabase(limit);
          // Browsers before getAllRecords (Chrome 141) walk a cursor instead.
          const getAllRecords = IDBIndex.prototype.getAllRecords;
          delete IDBIndex.prototype.getAllRecords;
          if (typeof IDBIndex.prototype.getAllRecords !== 'undefined') throw new Error('getAllRecords is still there');
          const byCursor = await fromDatabase(limit).finally(() => { IDBIndex.prototype.getAllRecords = getAllRecords; });
          out.push({ limit, worker, database, byCursor, hadGetAllRecords: typeof getAllRecords === 'function' });
        }
        return out;
      });
      for (const { limit, worker, database, byCursor, hadGetAllRecords } of compared) {
        assert.equal(worker.type, 'dream_page');
        assert.equal(worker.items.length, Math.min(limit, 64));
        assert.deepEqual(database, worker, `limit ${limit}`);
        assert.deepEqual(byCursor, worker, `limit ${limit}, by cursor`);
        assert.ok(hadGetAllRecords, 'this Chromium reads the page in one getAllRecords');
      }

      // A missing or older database is left alone for the worker to create or migrate.
      const untouched = await popup.evaluate(async () => {
        const { fromDatabase, schemaVersion: SCHEMA_VERSION } = globalThis.dreamcatcherFirstPageReader;
        const failure = (promise) => promise.then(() => 'read', (error) => String(error?.name || error));
        const missing = await failure(fromDatabase(50, 'dreamcatcher-absent'));
        const older = await new Promise((resolve, reject) => {
          const opening = indexedDB.open('dreamcatcher-older', SCHEMA_VERSION - 1);
          opening.onsuccess = () => { opening.result.close(); resolve(); };
          opening.onerror = () => reject(opening.error);
        });
        const olderRead = await failure(fromDatabase(50, 'dreamcatcher-older'));
        const databases = Object.fromEntries((await indexedDB.databases()).map((d) => [d.name, d.version]));
        return { missing, older, olderRead, databases, version: SCHEMA_VERSION };
      });
      assert.notEqual(untouched.missing, 'read');
      assert.notEqual(untouched.olderRead, 'read');
      assert.equal(untouched.databases['dreamcatcher-absent'], undefined);
      assert.equal(untouched.databases['dreamcatcher-older'], untouched.version - 1);
      assert.equal(untouched.databases.dreamcatcher, untouched.version);
      await popup.close();

      // Chrome stops an idle worker; the popup opened then still lists the newest dreams.
      assert.ok(await browser.stopWorker() >= 1, 'a worker was running');
      const cold = await openPopup(browser);
      await listSettled(cold, '');
      const titles = await rowTitles(cold);
      assert.deepEqual(titles.slice(0, 3), compared[0].worker.items.slice(0, 3).map((d) => d.title));
      assert.match(await cold.locator('.status-line').textContent(), /64/);
    });
  });

  test('related to this page on a chat tab', async () => {
    sites.mode.json = 'ok';
    await withBrowser(async (browser) => {
      await capture(browser, 'page-chatgpt-2026-09');
      const related = [
        claudeEntry(201, 'TOML parsing in Rust with serde', 'Parse a TOML config in Rust?',
          'Derive Deserialize and call toml::from_str:\n\n```rust\nlet config: Config = toml::from_str(&text)?;\n```'),
        claudeEntry(202, 'Sourdough starter schedule', 'When do I feed it?', 'Twice a day.'),
      ];
      await apiImport(browser, 'conversations.json', Buffer.from(JSON.stringify(related)));

      const chat = await browser.context.newPage();
      await chat.goto(pageUrl(sites.pages.find((p) => p.id === 'page-chatgpt-2026-09')));
      const popup = await openPopup(browser);
      // The popup asks for the active tab of its window: make the chat tab the active one.
      await chat.bringToFront();
      await popup.reload();
      const section = popup.locator('details.related');
      await section.waitFor();
      assert.equal(await section.locator('summary').textContent(), 'Related to this page (1)');
      assert.equal(await section.locator('.related-title').textContent(), 'TOML parsing in Rust with serde');
      const score = Number((await section.locator('.score').textContent()).replace('%', ''));
      assert.ok(score >= 60 && score <= 100, `score ${score}`);
      await section.locator('.related-item').click();
      await popup.locator('#dream-title', { hasText: 'TOML parsing in Rust with serde' }).waitFor();
    });
  });

  test('a message with markup is shown as text in the dream view and runs nothing', async () => {
    await withBrowser(async (browser) => {
      const payload = 'Why does <img src=x onerror="window.dcPwned=1"> not load? And <script>window.dcPwned=2</script>?';
      const entry = claudeEntry(301, 'Markup in a question', payload,
        'It is shown as text: <b onmouseover="window.dcPwned=3">bold?</b> <iframe src="javascript:window.dcPwned=4"></iframe>');
      await apiImport(browser, 'conversations.json', Buffer.from(JSON.stringify([entry])));
      const popup = await openPopup(browser);
      await popup.locator('.list .row', { hasText: 'Markup in a question' }).click();
      const messages = popup.locator('.dream-view .messages');
      await messages.waitFor();
      await popup.waitForTimeout(300);
      for (const tag of ['img', 'script', 'iframe', 'b']) {
        assert.equal(await messages.locator(tag).count(), 0, `no <${tag}> element`);
      }
      const text = await messages.textContent();
      assert.ok(text.includes('<img src=x onerror="window.dcPwned=1">'), text);
      assert.ok(text.includes('<script>window.dcPwned=2</script>'), text);
      assert.ok(text.includes('<iframe src="javascript:window.dcPwned=4"></iframe>'), text);
      await messages.locator('.raw-html').first().hover();
      assert.equal(await popup.evaluate(() => typeof window.dcPwned), 'undefined');
      await popup.screenshot({ path: join(artifactsDir, 'popup-dream-markup.png') });
    });
  });
});

describe('settings', () => {
  test('the form is validated before it can be saved', async () => {
    await withBrowser(async (browser) => {
      const settings = await openSettings(browser);
      const url = settings.locator('#server-url');
      const message = settings.locator('#server-url-message');
      const save = settings.getByRole('button', { name: 'Save settings' });
      assert.equal(await save.isDisabled(), true, 'nothing changed yet');

      await url.fill('ftp://pipelineos.example.com');
      assert.equal(await message.textContent(), 'The address must start with http:// or https://.');
      assert.equal(await url.getAttribute('aria-invalid'), 'true');
      assert.equal(await save.isDisabled(), true);
      await url.fill('http://pipelineos.example.com');
      assert.match(await message.textContent(), /^Use https:\/\/ for a server on another machine/);
      await url.fill('https://pipelineos.example.com:99999');
      assert.equal(await message.textContent(), 'The port "99999" is not a number from 1 to 65535.');
      await url.fill('https://pipelineos.example.com/');
      assert.equal(await url.getAttribute('aria-invalid'), 'false');

      const code = settings.locator('#pairing-code');
      await code.fill('AB_12');
      assert.equal(await settings.locator('#pairing-code-message').textContent(), 'A pairing code has only letters and digits; "_" is not one of them.');
      await code.fill('k7qm-4xzp');
      assert.equal(await settings.locator('#pairing-code-message').textContent(), 'Code K7QM4XZP looks right.');

      await settings.getByLabel('Show the Capture button on chat pages').uncheck();
      assert.equal(await save.isDisabled(), false);
      await save.click();
      await settings.locator('.save-bar [role=status]', { hasText: 'Saved' }).waitFor();
      const stored = await browser.api({ type: 'get_settings' });
      assert.equal(stored.server_url, 'https://pipelineos.example.com');
      assert.equal(stored.show_page_button, false);

      // Delete everything waits for the typed word.
      const remove = settings.getByRole('button', { name: 'Delete everything' });
      assert.equal(await remove.isDisabled(), true);
      await settings.locator('#delete-confirm').fill('delete');
      assert.equal(await remove.isDisabled(), true, 'the word must be typed exactly');
      await settings.locator('#delete-confirm').fill('DELETE');
      assert.equal(await remove.isDisabled(), false);
      await url.fill('not a url');
      assert.equal(await settings.locator('.save-bar [role=status]').textContent(), 'Unsaved changes');
      assert.equal(await save.isDisabled(), true, 'an invalid address cannot be saved');
      await settings.screenshot({ path: join(artifactsDir, 'settings.png'), fullPage: true });
    });
  });
});
