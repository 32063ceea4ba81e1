// Test harness: a local HTTPS server answering for chatgpt.com and claude.ai (Chromium maps
// both names to 127.0.0.1), and a headless Chromium with the built extension loaded.
import { execFileSync } from 'node:child_process';
import { crc32 } from 'node:zlib';
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

/**
 * Stops the extension's running service workers through the DevTools protocol, as Chrome
 * does when one is idle; returns how many were running.
 */
export async function stopExtensionWorkers(context, extensionId) {
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
}

/** Headless Chromium in a fresh profile with the unpacked extension in `dir` loaded, its
 * service worker started; close() removes the profile. The benchmark launches through it too. */
export async function launchWithExtension(dir, extraArgs = []) {
  const profile = mkdtempSync(join(tmpdir(), 'dreamcatcher-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run',
      `--disable-extensions-except=${dir}`, `--load-extension=${dir}`,
      ...extraArgs,
    ],
  });
  // Polled as well as awaited: a worker registered between a look and the wait for the event
  // would otherwise be missed.
  const worker = async (timeout = 30000) => {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      const [running] = context.serviceWorkers();
      if (running) return running;
      const started = await context.waitForEvent('serviceworker', { timeout: 250 }).catch(() => null);
      if (started) return started;
    }
    throw new Error(`the extension's service worker did not start within ${timeout} ms`);
  };
  const extensionId = new URL((await worker()).url()).host;
  return {
    context,
    extensionId,
    worker,
    /** Stops every service worker through the DevTools protocol (as Chrome does when idle). */
    stopWorker: () => stopExtensionWorkers(context, extensionId),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Headless Chromium with the built extension, the chat sites answered by startSites(). */
export async function launchBrowser() {
  if (!existsSync(join(extensionDir, 'manifest.json'))) {
    throw new Error('dist/extension is missing: run scripts/build-extension.sh first');
  }
  const browser = await launchWithExtension(extensionDir, [
    '--host-resolver-rules=MAP chatgpt.com 127.0.0.1, MAP chat.openai.com 127.0.0.1, MAP claude.ai 127.0.0.1',
    '--ignore-certificate-errors',
  ]);
  let apiPage = null;
  return {
    ...browser,
    /** Calls the service worker's API the way the popup does: a message from an extension page
     * (which also wakes a stopped worker). */
    async api(request) {
      if (!apiPage || apiPage.isClosed()) {
        apiPage = await browser.context.newPage();
        await apiPage.goto(`chrome-extension://${browser.extensionId}/options.html`);
      }
      return apiPage.evaluate((message) => chrome.runtime.sendMessage(message), request);
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

export const artifactsDir = join(repoRoot, 'tests', 'artifacts');
export const captureFixtures = join(repoRoot, 'crates', 'capture', 'tests', 'fixtures');

/** Runs `body` with a fresh browser profile, closing it however the test ends. */
export async function withBrowser(body) {
  const browser = await launchBrowser();
  try {
    await body(browser);
  } finally {
    await browser.close();
  }
}

/** The popup page opened in a tab, at the popup's size, once its list has rendered. */
export async function openPopup(browser, { width = 400, height = 600 } = {}) {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width, height });
  await page.goto(`chrome-extension://${browser.extensionId}/popup.html`);
  await page.locator('.status-line').filter({ hasNotText: 'Loading' }).waitFor();
  return page;
}

/** The settings page opened in a tab, once the stored settings are in. */
export async function openSettings(browser) {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 800, height: 1100 });
  await page.goto(`chrome-extension://${browser.extensionId}/options.html`);
  await page.locator('#server-url').waitFor();
  return page;
}

/** Imports a file through the service worker's API (the popup's own requests), waiting for the summary. */
export async function apiImport(browser, fileName, bytes) {
  const begin = await browser.api({ type: 'import_begin', file_name: fileName, total_bytes: bytes.length });
  if (begin.type !== 'import_started') throw new Error(`import_begin: ${JSON.stringify(begin)}`);
  let report = await browser.api({
    type: 'import_chunk', import_id: begin.import_id, data_base64: Buffer.from(bytes).toString('base64'), last: true,
  });
  const deadline = Date.now() + 30000;
  while (report.type === 'import_progress' && !report.summary && !report.error && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    report = await browser.api({ type: 'import_status', import_id: begin.import_id });
  }
  if (report.type !== 'import_progress' || !report.summary) throw new Error(`import: ${JSON.stringify(report)}`);
  return report.summary;
}

/** Imports a file through the popup's Import… button; returns the summary line shown. */
export async function importInPopup(popup, fileName, bytes) {
  const mimeType = fileName.endsWith('.zip') ? 'application/zip' : 'application/json';
  await popup.locator('footer input[type=file]').setInputFiles({ name: fileName, mimeType, buffer: Buffer.from(bytes) });
  const panel = popup.locator('.import-panel');
  await panel.locator('.summary, .error').first().waitFor({ timeout: 30000 });
  const text = (await panel.locator('.summary, .error').first().textContent()).trim();
  const skipped = await panel.locator('.skipped li').allTextContents();
  await panel.getByRole('button', { name: 'Close' }).click();
  return { text, skipped };
}

/** A zip archive (entries stored, not compressed) of `files`: [{ name, data }]. */
export function makeZip(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const { name, data } of files) {
    const nameBytes = Buffer.from(name, 'utf8');
    const body = Buffer.from(data);
    const crc = crc32(body);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(body.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(body.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, body);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
