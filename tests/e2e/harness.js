// Test harness: a local HTTPS server answering for chatgpt.com and claude.ai (Chromium maps
// both names to 127.0.0.1), and a headless Chromium with the built extension loaded.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
export const extensionDir = join(repoRoot, 'dist', 'extension');
export const sharedFixtures = resolve(repoRoot, '..', 'shared', 'fixtures');
const ownFixtures = join(repoRoot, 'tests', 'fixtures');
const pageFixtures = join(repoRoot, 'crates', 'capture', 'tests', 'fixtures', 'pages');
export const PORT = 8443;
// Strict: no 'wasm-unsafe-eval', so wasm cannot run in the content script on these pages.
const PAGE_CSP = "script-src 'self'";

/** Page fixtures by id: the repository's own (one per layout), then ../shared/fixtures when present. */
export function pageFixtures_() {
  const pages = readdirSync(pageFixtures)
    .filter((f) => f.endsWith('.html'))
    .map((f) => ({ id: `page-${f.replace(/\.html$/, '')}`, file: join(pageFixtures, f), name: f }));
  pages.push({ id: 'page-xss', file: join(ownFixtures, 'xss-chatgpt-2026-09.html'), name: 'xss-chatgpt-2026-09.html' });
  for (const site of ['chatgpt', 'claude']) {
    const dir = join(sharedFixtures, site);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((name) => name.endsWith('.html'))) {
      pages.push({ id: `shared-${site}-${f.replace(/\.html$/, '')}`, file: join(dir, f), name: `shared/${site}/${f}` });
    }
  }
  return pages.map((p) => ({ ...p, site: /claude/.test(p.name) ? 'claude' : 'chatgpt' }));
}

export function pageUrl(page) {
  return page.site === 'claude'
    ? `https://claude.ai:${PORT}/chat/${page.id}`
    : `https://chatgpt.com:${PORT}/c/${page.id}`;
}

function certificate(dir) {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=chatgpt.com',
    '-addext', 'subjectAltName=DNS:chatgpt.com,DNS:chat.openai.com,DNS:claude.ai',
    '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

/**
 * Starts the fake sites. `server.mode.json` switches the JSON routes: 'ok', 401, 429, 500;
 * `server.mode.delayMs` delays the conversation JSON.
 */
export async function startSites() {
  const dir = mkdtempSync(join(tmpdir(), 'dreamcatcher-sites-'));
  const pages = new Map(pageFixtures_().map((p) => [p.id, p]));
  const mode = { json: 'ok', delayMs: 0, retryAfter: '90' };
  const requests = [];
  const server = createServer(certificate(dir), async (request, response) => {
    const host = (request.headers.host || '').split(':')[0];
    const url = new URL(request.url, `https://${host}`);
    requests.push(`${host}${url.pathname}`);
    const send = (status, body, headers = {}) => {
      response.writeHead(status, { 'Content-Security-Policy': PAGE_CSP, ...headers });
      response.end(body);
    };
    const json = (value) => send(200, JSON.stringify(value), { 'Content-Type': 'application/json' });
    const failure = () => {
      if (mode.json === 401) return send(401, '{"detail":"Unauthorized"}');
      if (mode.json === 429) return send(429, '{"detail":"Too many requests"}', { 'Retry-After': mode.retryAfter });
      if (mode.json === 500) return send(500, 'Internal Server Error');
      return false;
    };
    const page = url.pathname.match(/^\/(?:c|chat)\/([\w-]+)$/);
    if (page) {
      const fixture = pages.get(page[1]);
      if (!fixture) return send(404, 'no such fixture');
      return send(200, readFileSync(fixture.file), { 'Content-Type': 'text/html; charset=utf-8' });
    }
    if (url.pathname === '/api/auth/session') {
      return failure() === false && json({ accessToken: 'test-token', user: { name: 'Test' } });
    }
    const chatgpt = url.pathname.match(/^\/backend-api\/conversation\/([\w-]+)$/);
    if (chatgpt) {
      if (request.headers.authorization !== 'Bearer test-token') return send(401, 'no token');
      if (failure() !== false) return;
      await new Promise((r) => setTimeout(r, mode.delayMs));
      const body = JSON.parse(readFileSync(join(ownFixtures, 'chatgpt-conversation.json'), 'utf8'));
      body.conversation_id = chatgpt[1];
      return json(body);
    }
    if (url.pathname === '/api/organizations') return failure() === false && json([{ uuid: 'org-test' }]);
    const claude = url.pathname.match(/^\/api\/organizations\/org-test\/chat_conversations\/([\w-]+)$/);
    if (claude) {
      if (failure() !== false) return;
      await new Promise((r) => setTimeout(r, mode.delayMs));
      const body = JSON.parse(readFileSync(join(ownFixtures, 'claude-conversation.json'), 'utf8'));
      body.uuid = claude[1];
      return json(body);
    }
    return send(404, 'not found');
  });
  await new Promise((ok) => server.listen(PORT, '127.0.0.1', ok));
  return {
    mode,
    requests,
    pages: [...pages.values()],
    close: async () => {
      await new Promise((ok) => server.close(ok));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Headless Chromium with the extension, in a fresh profile. */
export async function launchBrowser() {
  if (!existsSync(join(extensionDir, 'manifest.json'))) {
    throw new Error('dist/extension is missing: run scripts/build-extension.sh first');
  }
  const profile = mkdtempSync(join(tmpdir(), 'dreamcatcher-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run',
      `--disable-extensions-except=${extensionDir}`, `--load-extension=${extensionDir}`,
      '--host-resolver-rules=MAP chatgpt.com 127.0.0.1, MAP chat.openai.com 127.0.0.1, MAP claude.ai 127.0.0.1',
      '--ignore-certificate-errors',
    ],
  });
  const worker = async () => context.serviceWorkers()[0] || context.waitForEvent('serviceworker');
  const sw = await worker();
  const extensionId = new URL(sw.url()).host;
  let apiPage = null;
  return {
    context,
    extensionId,
    worker,
    /** Calls the service worker's API the way the popup does: a message from an extension page
     * (which also wakes a stopped worker). */
    async api(request) {
      if (!apiPage || apiPage.isClosed()) {
        apiPage = await context.newPage();
        await apiPage.goto(`chrome-extension://${extensionId}/options.html`);
      }
      return apiPage.evaluate((message) => chrome.runtime.sendMessage(message), request);
    },
    /** Stops every service worker through the DevTools protocol (as Chrome does when idle). */
    async stopWorker() {
      const page = await context.newPage();
      await page.goto(`chrome-extension://${extensionId}/manifest.json`);
      const cdp = await context.newCDPSession(page);
      const versions = new Map();
      cdp.on('ServiceWorker.workerVersionUpdated', ({ versions: updated }) => {
        for (const v of updated) versions.set(v.versionId, v);
      });
      await cdp.send('ServiceWorker.enable');
      await new Promise((r) => setTimeout(r, 200));
      const running = [...versions.values()].filter((v) => v.scriptURL.startsWith(`chrome-extension://${extensionId}/`) && v.runningStatus !== 'stopped');
      for (const v of running) await cdp.send('ServiceWorker.stopWorker', { versionId: v.versionId });
      await cdp.detach();
      await page.close();
      return running.length;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Waits for the in-page status line to show a final (not progress) message and returns it. */
export async function finalStatus(page, timeout = 20000) {
  const status = page.locator('.dreamcatcher-status');
  await page.waitForFunction(
    () => {
      const el = document.querySelector('.dreamcatcher-status');
      return el && !el.hidden && el.dataset.kind !== 'progress';
    },
    null,
    { timeout },
  );
  return { text: await status.textContent(), kind: await status.getAttribute('data-kind') };
}
