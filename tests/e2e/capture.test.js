// End-to-end: the built extension in headless Chromium capturing from the fake chat sites.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { finalStatus, pageUrl, startSites, withBrowser } from './harness.js';

let sites;
before(async () => { sites = await startSites(); });
after(async () => { await sites.close(); });

// Messages each shared page capture holds (../shared/fixtures/SOURCES.md and the pages' header
// comments), or why it is no chat page.
const SHARED_PAGES = {
  'chatgpt/2026-03-codemirror-block.html': 'not a chat page',
  'chatgpt/2026-05-codemirror-katex-table.html': 2,
  'chatgpt/2026-06-citations.html': 2,
  'chatgpt/2026-06-multiblock-turn.html': 2,
  'chatgpt/2026-09-turn-key-layout.html': 6,
  'claude/2026-05-code-block.html': 2,
  'claude/2026-06-minimal.html': 4,
  'claude/2026-10-hub-layout.html': 4,
};

// A page whose last answer is still being written must be refused, not half saved.
function streaming(page) {
  return readFileSync(page.file, 'utf8').includes('data-is-streaming="true"');
}

function fixture(id) {
  const page = sites.pages.find((p) => p.id === id);
  assert.ok(page, `fixture ${id} exists`);
  return page;
}

async function openPage(browser, page) {
  const tab = await browser.context.newPage();
  await tab.goto(pageUrl(page));
  return tab;
}

async function dreamCount(browser) {
  const reply = await browser.api({ type: 'list_dreams', limit: 500 });
  assert.equal(reply.type, 'dream_page', JSON.stringify(reply));
  return reply.total;
}

describe('capture', () => {
  test('capture button on every layout fixture reads the page when the site data fails (strict CSP)', async () => {
    sites.mode.json = 500;
    await withBrowser(async (browser) => {
      for (const page of sites.pages.filter((p) => !p.id.startsWith('page-xss'))) {
        const tab = await openPage(browser, page);
        await tab.locator('.dreamcatcher-capture').click({ timeout: 10000 });
        const status = await finalStatus(tab);
        if (page.name.startsWith('shared/')) {
          const expected = SHARED_PAGES[page.name.replace(/^shared\//, '')];
          assert.ok(expected !== undefined, `${page.name}: no expectation yet (see ../shared/fixtures/SOURCES.md)`);
          console.log(`# ${page.name}: ${status.text}`);
          if (expected === 'not a chat page') {
            assert.equal(status.kind, 'error', page.name);
            assert.match(status.text, /^Page layout not recognised on chatgpt\.com: no supported ChatGPT chat layout found; looked for: .+\. Nothing was saved\.$/, page.name);
          } else {
            assert.equal(status.kind, 'ok', `${page.name}: ${status.text}`);
            assert.match(status.text, new RegExp(`^Captured: ${expected} messages, \\d+ code blocks? \\(from the page\\)`), page.name);
          }
        } else if (page.name.startsWith('unrecognised')) {
          assert.equal(status.kind, 'error', page.name);
          assert.match(status.text, /layout not recognised/i, page.name);
        } else if (streaming(page)) {
          assert.equal(status.kind, 'error', page.name);
          assert.match(status.text, /still being written/, page.name);
        } else {
          assert.equal(status.kind, 'ok', `${page.name}: ${status.text}`);
          assert.match(status.text, /^Captured: \d+ messages?, \d+ code blocks? \(from the page\)/, page.name);
        }
        await tab.close();
      }
      const own = sites.pages.filter((p) => p.id.startsWith('page-') && p.id !== 'page-xss');
      const expected = own.filter((p) => !p.name.startsWith('unrecognised') && !streaming(p)).length;
      assert.ok(await dreamCount(browser) >= expected);
    });
  });

  test('the site JSON route is used when it answers, for both sites', async () => {
    sites.mode.json = 'ok';
    await withBrowser(async (browser) => {
      for (const id of ['page-chatgpt-2026-09', 'page-claude-2026-10']) {
        const tab = await openPage(browser, fixture(id));
        await tab.locator('.dreamcatcher-capture').click();
        const status = await finalStatus(tab);
        assert.equal(status.kind, 'ok', status.text);
        assert.match(status.text, /^Captured: 2 messages, 1 code block \(from the site's data\)$/);
        await tab.close();
      }
    });
  });

  test('failures are precise: not logged in, rate-limited with the retry time', async () => {
    await withBrowser(async (browser) => {
      const tab = await openPage(browser, fixture('page-chatgpt-2026-09'));
      sites.mode.json = 401;
      await tab.locator('.dreamcatcher-capture').click();
      let status = await finalStatus(tab);
      assert.equal(status.kind, 'error');
      assert.match(status.text, /^Not logged in to chatgpt\.com/);
      sites.mode.json = 429;
      await tab.locator('.dreamcatcher-capture').click();
      await tab.waitForFunction(() => /Rate-limited/.test(document.querySelector('.dreamcatcher-status').textContent));
      status = await finalStatus(tab);
      assert.equal(status.text, 'Rate-limited by chatgpt.com: try again in 2 minutes.');
      assert.equal(await dreamCount(browser), 0, 'nothing saved on failure');
    });
  });

  // Headless Chromium cannot press extension shortcuts: the test calls the function the
  // chrome.commands listener calls, with the active tab, which is the same path after the key.
  test('keyboard shortcut command captures the active tab', async () => {
    sites.mode.json = 'ok';
    await withBrowser(async (browser) => {
      const tab = await openPage(browser, fixture('page-claude-2026-10'));
      await tab.locator('.dreamcatcher-capture').waitFor();
      const worker = await browser.worker();
      await worker.evaluate(async (url) => {
        const [target] = await chrome.tabs.query({ url: url.replace(/:\d+\//, '/') });
        await globalThis.dreamcatcherCommand('capture-conversation', target);
      }, tab.url());
      const status = await finalStatus(tab);
      assert.match(status.text, /^Captured: 2 messages/);
      assert.equal(await dreamCount(browser), 1);
    });
  });

  // The context menu is registered at install; headless Chromium cannot open it, so the test
  // calls the function its onClicked listener calls, with what Chrome passes.
  test('the context-menu entry saves the selected text as a fragment, line breaks kept', async () => {
    await withBrowser(async (browser) => {
      const tab = await openPage(browser, fixture('page-claude-2026-10'));
      await tab.locator('.dreamcatcher-capture').waitFor();
      const selected = await tab.evaluate(() => {
        const block = document.querySelector('pre') ?? document.querySelector('p');
        window.getSelection().selectAllChildren(block);
        return String(window.getSelection());
      });
      assert.ok(selected.trim().includes('\n'), 'the selection spans lines');
      const worker = await browser.worker();
      const menu = await worker.evaluate(async ([url, selectionText]) => {
        // update() fails for a menu entry that does not exist.
        const registered = await chrome.contextMenus.update('dreamcatcher-save-selection', {})
          .then(() => true, (error) => String(error));
        const [target] = await chrome.tabs.query({ url: url.replace(/:\d+\//, '/') });
        const info = {
          menuItemId: 'dreamcatcher-save-selection', selectionText: selectionText.replace(/\s+/g, ' '), pageUrl: url,
        };
        await globalThis.dreamcatcherContextMenu(info, target);
        return registered;
      }, [tab.url(), selected]);
      assert.equal(menu, true);
      const status = await finalStatus(tab);
      assert.equal(status.kind, 'ok', status.text);
      assert.match(status.text, /^Saved the selection/);
      const list = await browser.api({ type: 'list_dreams' });
      assert.equal(list.total, 1);
      const saved = await browser.api({ type: 'get_dream', id: list.items[0].id });
      const [block] = saved.dream.conversation.messages[0].code_blocks;
      assert.equal(block.code, selected.replace(/^\n+|\n+$/g, ''));
    });
  });

  test('recapture updates the dream in place', async () => {
    sites.mode.json = 'ok';
    await withBrowser(async (browser) => {
      const tab = await openPage(browser, fixture('page-chatgpt-2024-12'));
      await tab.locator('.dreamcatcher-capture').click();
      assert.equal((await finalStatus(tab)).kind, 'ok');
      const first = await browser.api({ type: 'list_dreams' });
      await browser.api({ type: 'set_tags', id: first.items[0].id, tags: ['kept'] });
      await tab.evaluate(() => { document.querySelector('.dreamcatcher-status').hidden = true; });
      await tab.locator('.dreamcatcher-capture').click();
      const status = await finalStatus(tab);
      assert.match(status.text, /already saved|updated the saved copy/);
      const second = await browser.api({ type: 'list_dreams' });
      assert.equal(second.total, 1);
      assert.equal(second.items[0].id, first.items[0].id);
      assert.deepEqual(second.items[0].tags, ['kept']);
    });
  });

  test('capture this answer stores one exchange as its own dream', async () => {
    await withBrowser(async (browser) => {
      const tab = await openPage(browser, fixture('page-claude-2026-10'));
      const buttons = tab.locator('.dreamcatcher-answer');
      await buttons.first().waitFor();
      assert.ok((await buttons.count()) >= 1);
      await buttons.last().click();
      const status = await finalStatus(tab);
      assert.equal(status.kind, 'ok', status.text);
      assert.match(status.text, /^Captured: 2 messages/);
      const list = await browser.api({ type: 'list_dreams' });
      assert.equal(list.total, 1);
      assert.match(list.items[0].title, /one answer$/);
      const dream = await browser.api({ type: 'get_dream', id: list.items[0].id });
      assert.ok(!JSON.stringify(dream).includes('Capture this answer'), 'our button is not captured');
    });
  });

  test('a worker stopped during and after captures loses nothing', async () => {
    sites.mode.json = 'ok';
    sites.mode.delayMs = 600;
    try {
      await withBrowser(async (browser) => {
        const first = await openPage(browser, fixture('page-chatgpt-2026-04'));
        await first.locator('.dreamcatcher-capture').click();
        // Stopped while the capture is in flight: the content script's retry wakes it.
        await new Promise((r) => setTimeout(r, 300));
        await browser.stopWorker();
        let status = await finalStatus(first);
        assert.equal(status.kind, 'ok', status.text);

        const second = await openPage(browser, fixture('page-claude-2024'));
        await second.locator('.dreamcatcher-capture').click();
        status = await finalStatus(second);
        assert.equal(status.kind, 'ok', status.text);
        // Stopped before the index snapshot is saved (3 s after the last change).
        await browser.stopWorker();
        await new Promise((r) => setTimeout(r, 500));

        assert.equal(await dreamCount(browser), 2);
        for (const word of ['toml', 'retry']) {
          const found = await browser.api({ type: 'search', query: word });
          assert.equal(found.type, 'search_results', JSON.stringify(found));
          assert.equal(found.hits.length, 1, `search ${word} after restart`);
        }
      });
    } finally {
      sites.mode.delayMs = 0;
    }
  });

  test('markup in a message is stored as text and runs nothing', async () => {
    await withBrowser(async (browser) => {
      for (const [mode, id] of [[500, 'page-xss'], ['ok', 'page-claude-2026-10']]) {
        sites.mode.json = mode;
        const tab = await openPage(browser, fixture(id));
        await tab.locator('.dreamcatcher-capture').click();
        const status = await finalStatus(tab);
        assert.equal(status.kind, 'ok', status.text);
        assert.notEqual(await tab.title(), 'pwned');
        assert.equal(await tab.locator('img[src="x"]').count(), 0);
        await tab.close();
      }
      const list = await browser.api({ type: 'list_dreams' });
      for (const item of list.items) {
        const { dream } = await browser.api({ type: 'get_dream', id: item.id });
        const prompt = dream.conversation.messages[0].markdown;
        assert.match(prompt, /<img src=x onerror=/, 'kept as text');
        assert.match(prompt, /<script>document\.title='pwned'<\/script>/);
      }
      const worker = await browser.worker();
      assert.equal(await worker.evaluate(() => typeof globalThis.pwned), 'undefined');
    });
  });
});
