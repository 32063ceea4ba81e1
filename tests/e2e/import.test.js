// End-to-end: exporting and importing through the popup and settings pages of the built
// extension: the library round-trips losslessly, and the sites' official exports (JSON and
// zip) import with a summary and without duplicates on re-import.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  captureFixtures, finalStatus, importInPopup, makeZip, openPopup, openSettings, pageUrl, sharedFixtures,
  startSites, withBrowser,
} from './harness.js';

let sites;
before(async () => { sites = await startSites(); });
after(async () => { await sites.close(); });

const exportFixture = (name) => readFileSync(join(captureFixtures, 'json', name));

/** Exports everything as JSON with the popup's footer control; returns the downloaded text. */
async function exportAll(popup) {
  const footer = popup.locator('footer');
  await footer.getByLabel('Export format').selectOption('json');
  const [download] = await Promise.all([
    popup.waitForEvent('download'),
    footer.getByRole('button', { name: 'Export all' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'dreamcatcher-library.json');
  const path = await download.path();
  return readFileSync(path, 'utf8');
}

/** The entries an export file holds: an array's length, or one conversation. */
function conversationsIn(bytes) {
  const value = JSON.parse(bytes.toString('utf8').replace(/^\uFEFF/, ''));
  return Array.isArray(value) ? value.length : 1;
}

describe('export and import', () => {
  test('export all, delete all, import: the library comes back exactly', async () => {
    sites.mode.json = 'ok';
    await withBrowser(async (browser) => {
      for (const id of ['page-chatgpt-2026-09', 'page-claude-2026-10']) {
        const tab = await browser.context.newPage();
        await tab.goto(pageUrl(sites.pages.find((p) => p.id === id)));
        await tab.locator('.dreamcatcher-capture').click();
        assert.equal((await finalStatus(tab)).kind, 'ok');
        await tab.close();
      }
      sites.mode.json = 500;
      const tab = await browser.context.newPage();
      await tab.goto(pageUrl(sites.pages.find((p) => p.id === 'page-chatgpt-2024-12')));
      await tab.locator('.dreamcatcher-capture').click();
      assert.equal((await finalStatus(tab)).kind, 'ok', 'a capture read off the page too');
      await tab.close();
      const list = await browser.api({ type: 'list_dreams' });
      await browser.api({ type: 'set_tags', id: list.items[0].id, tags: ['keep', 'these'] });
      await browser.api({ type: 'set_notes', id: list.items[1].id, notes: 'Notes survive the round trip.' });
      await browser.api({ type: 'record_usage', id: list.items[2].id });

      const popup = await openPopup(browser);
      const before = await exportAll(popup);
      const exported = JSON.parse(before);
      assert.equal(exported.dreams.length, 3);

      const settings = await openSettings(browser);
      await settings.locator('#delete-confirm').fill('DELETE');
      await settings.getByRole('button', { name: 'Delete everything' }).click();
      await settings.locator('.danger-zone [role=status]', { hasText: /^Deleted 3 dreams and \d+ fragments?\.$/ }).waitFor();
      assert.equal((await browser.api({ type: 'list_dreams' })).total, 0);

      await popup.reload();
      await popup.locator('.status-line', { hasText: 'No dreams yet' }).waitFor();
      const { text } = await importInPopup(popup, 'dreamcatcher-library.json', Buffer.from(before));
      assert.equal(text, 'Added 3 · Updated 0 · Already there 0 · Skipped 0');
      await popup.locator('.status-line', { hasText: '3 dreams' }).waitFor();
      const after = await exportAll(popup);
      assert.equal(after, before, 'the export after the round trip is byte for byte the one before');

      // The search index came back with the dreams.
      const found = await browser.api({ type: 'search', query: 'toml' });
      assert.equal(found.total, 1);
    });
  });

  test('official ChatGPT and Claude exports import with a summary, and again without duplicates', async () => {
    await withBrowser(async (browser) => {
      const popup = await openPopup(browser);
      const files = [
        { name: 'conversations.json', bytes: exportFixture('chatgpt-export.json') },
        { name: 'conversations.json', bytes: exportFixture('claude-export.json') },
      ];
      const zipped = exportFixture('claude-export.json').toString('utf8')
        .replaceAll('"uuid": "', '"uuid": "zip-');
      files.push({
        name: 'claude-export.zip',
        bytes: makeZip([
          { name: 'users.json', data: '[]' },
          { name: 'export/conversations.json', data: zipped },
          { name: '__MACOSX/export/conversations.json', data: 'not json' },
        ]),
        conversations: conversationsIn(Buffer.from(zipped)),
      });
      const exportsDir = join(sharedFixtures, 'exports');
      if (existsSync(exportsDir)) {
        for (const name of readdirSync(exportsDir).filter((f) => f.endsWith('.json')).sort()) {
          files.push({ name, bytes: readFileSync(join(exportsDir, name)) });
        }
      } else {
        console.log(`# ${exportsDir} is absent: only the repository's own exports are imported`);
      }

      let expectedTotal = 0;
      for (const file of files) {
        const conversations = file.conversations ?? conversationsIn(file.bytes);
        const first = await importInPopup(popup, file.name, file.bytes);
        const match = first.text.match(/^Added (\d+) · Updated (\d+) · Already there (\d+) · Skipped (\d+)$/);
        assert.ok(match, `${file.name}: ${first.text}`);
        const [added, updated, unchanged, skipped] = match.slice(1).map(Number);
        console.log(`# ${file.name}: ${first.text}${first.skipped.length ? ` (${first.skipped.join('; ')})` : ''}`);
        assert.equal(added + updated + unchanged + skipped, conversations, `${file.name}: every entry accounted for`);
        assert.equal(skipped, first.skipped.length, `${file.name}: each skip has its reason`);
        assert.ok(added >= 1, `${file.name}: ${first.text}`);
        expectedTotal += added;
        const again = await importInPopup(popup, file.name, file.bytes);
        assert.equal(again.text, `Added 0 · Updated 0 · Already there ${added + updated + unchanged} · Skipped ${skipped}`, file.name);
      }
      assert.equal((await browser.api({ type: 'list_dreams' })).total, expectedTotal, 'no duplicates');
      await popup.locator('.status-line', { hasText: `${expectedTotal} dreams` }).waitFor();

      // What the files held is searchable at once (the Claude fixture's first conversation).
      const hits = await browser.api({ type: 'search', query: 'rate limiter' });
      assert.ok(hits.total >= 2, 'the JSON and the zipped copy');

      // A file that is no export says why, and stores nothing.
      const wrong = await importInPopup(popup, 'photo.zip', makeZip([{ name: 'photo.txt', data: 'cat' }]));
      assert.match(wrong.text, /^photo\.zip: not a zip archive Dreamcatcher can read: .*photo\.txt/);
      assert.equal((await browser.api({ type: 'list_dreams' })).total, expectedTotal);
    });
  });
});
