// End-to-end: connected mode. The built extension in headless Chromium paired with the real
// `dreamcatcher-server` process (SQLite), which the tests kill with SIGKILL and start again.
// Covers: captures made while the service is down arrive once it is up; 20 kills during a
// 1,000-operation sync leave every capture on the service exactly once; two browser profiles
// of one account converge and keep concurrent edits as conflict copies; a second user sees
// nothing of the first; bad requests are refused cleanly; "Send to PipelineOS" shows the
// implementation's progress from the service's events.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import { finalStatus, openPopup, openSettings, pageUrl, startSites, withBrowser } from './harness.js';
import { createService, eventually } from './service.js';

let sites;
before(async () => { sites = await startSites(); });
after(async () => { await sites.close(); });

/** An official ChatGPT `conversations.json` of `count` small conversations. */
function chatgptExport(count, prefix) {
  const conversations = [];
  for (let n = 0; n < count; n += 1) {
    const message = (id, role, text, parent, children) => ({
      id,
      message: {
        id, author: { role }, content: { content_type: 'text', parts: [text] }, status: 'finished_successfully',
        metadata: {},
      },
      parent,
      children,
    });
    const id = `${prefix}-${String(n).padStart(4, '0')}-0000-4000-8000-000000000000`;
    conversations.push({
      id,
      conversation_id: id,
      title: `${prefix} conversation ${n}`,
      create_time: 1767225600 + n,
      update_time: 1767225600 + n,
      current_node: 'a',
      mapping: {
        r: { id: 'r', message: null, parent: null, children: ['q'] },
        q: message('q', 'user', `How do I do task ${n} of ${prefix}?`, 'r', ['a']),
        a: message('a', 'assistant', `Like this, for task ${n}:\n\n\`\`\`python\nprint(${n})\n\`\`\`\n`, 'q', []),
      },
    });
  }
  return Buffer.from(JSON.stringify(conversations));
}

async function importExport(browser, fileName, bytes) {
  const begin = await browser.api({ type: 'import_begin', file_name: fileName, total_bytes: bytes.length });
  await browser.api({
    type: 'import_chunk', import_id: begin.import_id, data_base64: bytes.toString('base64'), last: true,
  });
  return eventually(`import of ${fileName}`, async () => {
    const report = await browser.api({ type: 'import_status', import_id: begin.import_id });
    if (report.error) throw new Error(JSON.stringify(report.error));
    return report.summary;
  }, { timeout: 120000 });
}

async function pairByApi(browser, service, user, deviceName) {
  const reply = await browser.api({
    type: 'pair', server_url: service.url, pairing_code: service.pairingCode(user), device_name: deviceName,
  });
  assert.equal(reply.type, 'sync_overview', JSON.stringify(reply));
  return reply;
}

const status = (browser) => browser.api({ type: 'sync_status' });

async function syncedUp(browser, what, timeout = 90000) {
  return eventually(`${what}: everything synced`, async () => {
    const overview = await status(browser);
    return overview.state === 'connected' && overview.pending_operations === 0 ? overview : null;
  }, { timeout });
}

async function captureFixture(browser, id) {
  const tab = await browser.context.newPage();
  await tab.goto(pageUrl(sites.pages.find((p) => p.id === id)));
  await tab.locator('.dreamcatcher-capture').click();
  const outcome = await finalStatus(tab);
  await tab.close();
  assert.equal(outcome.kind, 'ok', outcome.text);
}

async function localDreams(browser) {
  const page = await browser.api({ type: 'list_dreams', limit: 500 });
  return page.items;
}

describe('connected mode against the real service', () => {
  test('pairing in the settings page; a capture made while the service is down arrives once it is up', async () => {
    sites.mode.json = 'ok';
    const service = await createService();
    try {
      service.addUser('ann');
      await service.start();
      await withBrowser(async (browser) => {
        const settings = await openSettings(browser);
        await settings.locator('#server-url').fill(service.url);
        await settings.locator('#test-connection').click();
        await settings.locator('#test-result[data-ok="true"]').waitFor({ timeout: 20000 });
        await settings.locator('#pairing-code').fill(service.pairingCode('ann'));
        await settings.locator('#device-name').fill('Test laptop');
        await settings.locator('#pair-button').click();
        await settings.locator('#sync-status[data-state="connected"]').waitFor({ timeout: 30000 });

        await service.kill();
        // The dropped connection reads as a network failure; the next attempt, refused,
        // as the service not running.
        const down = await eventually('the worker finds the service not running', async () => {
          const overview = await status(browser);
          return overview.state === 'error' && overview.failure.kind === 'server_not_running' ? overview : null;
        });
        assert.match(down.failure.message, /Please ensure PipelineOS is running/);
        assert.ok(down.failure.actions.includes('Retry Connection'), JSON.stringify(down.failure));
        await settings.locator('#sync-status[data-state="error"]').waitFor({ timeout: 20000 });
        const shown = await settings.locator('#sync-status').textContent();
        assert.match(shown, /Please ensure PipelineOS is running/, 'the §8.4 text is shown');

        await captureFixture(browser, 'page-chatgpt-2026-09');
        const waiting = await status(browser);
        assert.equal(waiting.pending_operations, 1, 'the capture waits in the outbox');
        const popup = await openPopup(browser);
        await popup.locator('#sync-chip').waitFor();
        assert.match(await popup.locator('#sync-chip').textContent(), /1 pending/);

        await service.start();
        await syncedUp(browser, 'after the service came back');
        const token = service.token('ann');
        const remote = await service.dreams(token);
        const [local] = await localDreams(browser);
        assert.deepEqual(remote.map((d) => d.id), [local.id], 'the capture is on the service, once');
        await popup.locator('#sync-chip[data-state="connected"]').waitFor({ timeout: 20000 });
      });
    } finally {
      await service.close();
    }
  });

  test('20 SIGKILLs during a 1,000-operation sync: every capture is on the service exactly once', async () => {
    const service = await createService();
    try {
      service.addUser('ann');
      await service.start();
      await withBrowser(async (browser) => {
        await pairByApi(browser, service, 'ann', 'Chaos laptop');
        await syncedUp(browser, 'after pairing');
        const bytes = chatgptExport(1000, 'chaos');
        const importing = importExport(browser, 'conversations.json', bytes);
        let kills = 0;
        while (kills < 20) {
          await new Promise((r) => setTimeout(r, 400 + (kills % 5) * 150));
          await service.kill();
          kills += 1;
          await new Promise((r) => setTimeout(r, 150));
          await service.start();
        }
        const summary = await importing;
        assert.equal(summary.added, 1000);
        await syncedUp(browser, 'after the kills', 240000);
        const remote = await service.dreams(service.token('ann'));
        assert.equal(remote.length, 1000, 'every capture arrived');
        assert.equal(new Set(remote.map((d) => d.id)).size, 1000, 'none twice');
        assert.ok(remote.every((d) => d.revision === 1), 'no operation was applied twice');
        const local = await browser.api({ type: 'list_dreams', limit: 1 });
        assert.equal(local.total, 1000);
      });
    } finally {
      await service.close();
    }
  });

  test('two profiles of one account converge; concurrent edits are kept as conflict copies; another user sees nothing', async () => {
    const service = await createService();
    try {
      service.addUser('ann');
      service.addUser('bob');
      await service.start();
      await withBrowser(async (laptop) => withBrowser(async (desktop) => {
        await pairByApi(laptop, service, 'ann', 'Laptop');
        await pairByApi(desktop, service, 'ann', 'Desktop');
        await captureFixture(laptop, 'page-claude-2026-10');
        const [dream] = await eventually('the desktop receives the laptop\'s capture', async () => {
          const items = await localDreams(desktop);
          return items.length === 1 ? items : null;
        });
        await laptop.api({ type: 'set_tags', id: dream.id, tags: ['shared'] });
        await eventually('the tag reaches the desktop', async () => {
          const reply = await desktop.api({ type: 'get_dream', id: dream.id });
          return reply.dream && (reply.dream.tags || []).includes('shared');
        });

        // Both edit the notes while the service is down: neither sees the other's edit.
        await service.kill();
        await eventually('both notice', async () => (await status(laptop)).state === 'error' && (await status(desktop)).state === 'error');
        await laptop.api({ type: 'set_notes', id: dream.id, notes: 'Notes from the laptop' });
        await desktop.api({ type: 'set_notes', id: dream.id, notes: 'Notes from the desktop' });
        await service.start();
        await syncedUp(laptop, 'laptop');
        await syncedUp(desktop, 'desktop');
        const converged = await eventually('both libraries hold the original and one conflict copy', async () => {
          const a = await localDreams(laptop);
          const b = await localDreams(desktop);
          if (a.length !== 2 || b.length !== 2) return null;
          const ids = (items) => items.map((d) => d.id).sort().join();
          return ids(a) === ids(b) ? a : null;
        });
        const copy = converged.find((d) => d.id !== dream.id);
        assert.match(copy.title, /\(conflict copy\)$/);
        const notes = async (browser, id) => (await browser.api({ type: 'get_dream', id })).dream.notes;
        const kept = [await notes(laptop, dream.id), await notes(laptop, copy.id)].sort();
        assert.deepEqual(kept, ['Notes from the desktop', 'Notes from the laptop'], 'neither edit was dropped');
        assert.equal(await notes(desktop, dream.id), await notes(laptop, dream.id));

        // Bob, on the same service, sees none of it.
        const bob = service.token('bob');
        assert.deepEqual(await service.dreams(bob), []);
        const peek = await service.request('GET', `/api/v1/dreams/${dream.id}`, { token: bob });
        assert.equal(peek.status, 404, 'another user cannot even learn the dream exists');
        const edit = await service.request('PATCH', `/api/v1/dreams/${dream.id}`, { token: bob, body: { notes: 'mine now' } });
        assert.equal(edit.status, 404);
        assert.equal(await notes(laptop, dream.id), await notes(desktop, dream.id));
      }));
    } finally {
      await service.close();
    }
  });

  test('oversized, malformed and unauthenticated requests are refused with clear errors', async () => {
    const service = await createService();
    try {
      service.addUser('ann');
      await service.start();
      const token = service.token('ann');
      const anonymous = await service.request('GET', '/api/v1/dreams');
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.json.error.code, 'unauthenticated', anonymous.text);
      assert.match(anonymous.json.error.message, /Authorization/);
      const wrongToken = await service.request('GET', '/api/v1/dreams', { token: 'dct_not-a-token' });
      assert.equal(wrongToken.status, 401);
      const malformed = await service.request('POST', '/api/v1/conversations/capture', { token, body: '{"site": "chatgpt", ' });
      assert.equal(malformed.status, 400);
      assert.ok(malformed.json.error.message.length > 10, malformed.text);
      const wrongShape = await service.request('POST', '/api/v1/conversations/capture', { token, body: { title: 42 } });
      assert.ok([400, 422].includes(wrongShape.status), wrongShape.text);
      // Over the 8 MiB capture limit.
      const huge = await service.request('POST', '/api/v1/conversations/capture', {
        token, body: JSON.stringify({ title: 'x', messages: [{ role: 'user', text: 'y'.repeat(9 * 1024 * 1024) }] }),
      });
      assert.equal(huge.status, 413, huge.text);
      assert.ok(huge.json.error.message, huge.text);

      // A malformed WebSocket message gets an error and the connection stays up (from a
      // browser page: Node 20 has no WebSocket client).
      await withBrowser(async (browser) => {
        const page = await browser.context.newPage();
        const received = await page.evaluate(async (url) => {
          const socket = new WebSocket(url);
          const messages = [];
          const next = () => new Promise((resolve) => socket.addEventListener('message', (e) => resolve(JSON.parse(e.data)), { once: true }));
          await new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = reject; });
          socket.send('{"type": "push", "operations": 7}');
          messages.push(await next());
          socket.send('{"type": "ping"}');
          messages.push(await next());
          messages.push(socket.readyState);
          socket.close();
          return messages;
        }, `${service.url.replace('http', 'ws')}/ws/dreamcatcher`);
        const [error, pong, readyState] = received;
        assert.equal(error.type, 'error', JSON.stringify(received));
        assert.ok(['malformed_message', 'not_authenticated'].includes(error.code), JSON.stringify(error));
        assert.equal(pong.type, 'pong', 'the connection stayed up after the bad message');
        assert.equal(readyState, 1);
      });
      assert.deepEqual(await service.dreams(token), [], 'nothing was stored by any of it');
    } finally {
      await service.close();
    }
  });

  test('Send to PipelineOS shows the implementation progress live from the service', async () => {
    const forwarded = [];
    const orchestrator = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => { body += chunk; });
      request.on('end', () => {
        forwarded.push(JSON.parse(body || '{}'));
        response.writeHead(202, { 'Content-Type': 'application/json' });
        response.end('{"accepted": true}');
      });
    });
    await new Promise((r) => orchestrator.listen(0, '127.0.0.1', r));
    const secret = 'orchestrator-secret-for-tests';
    const service = await createService({
      env: { ORCHESTRATOR_URL: `http://127.0.0.1:${orchestrator.address().port}/projects`, ORCHESTRATOR_SECRET: secret },
    });
    try {
      service.addUser('ann');
      await service.start();
      await withBrowser(async (browser) => {
        await pairByApi(browser, service, 'ann', 'Laptop');
        await captureFixture(browser, 'page-chatgpt-2026-09');
        await syncedUp(browser, 'the capture');
        const [dream] = await localDreams(browser);
        const popup = await openPopup(browser);
        await popup.locator('.list .row:not(.placeholder)').first().click();
        await popup.locator('#send-to-pipeline').click();
        await popup.locator('#implementation-status[data-state="in_progress"]').waitFor({ timeout: 20000 });
        assert.equal(forwarded.length, 1, 'the project went to the orchestrator');
        assert.equal(forwarded[0].dream.conversation.id, dream.id);
        const projectId = forwarded[0].project.id;
        const report = await service.request('POST', `/api/v1/dreams/${dream.id}/implementation`, {
          headers: { 'X-Orchestrator-Secret': secret },
          body: { project_id: projectId, status: 'completed', message: 'Merged', result: { pull_request: 'https://example.org/pr/7' } },
        });
        assert.equal(report.status, 200, report.text);
        await popup.locator('#implementation-status[data-state="completed"]').waitFor({ timeout: 20000 });
        const stored = await browser.api({ type: 'get_dream', id: dream.id });
        assert.equal(stored.implementation.state, 'completed');
      });
    } finally {
      await service.close();
      orchestrator.close();
    }
  });
});
