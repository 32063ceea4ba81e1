// The extension under the benchmark: a copy of dist/extension loaded into headless Chromium,
// driven the way the content script and popup drive it, plus the statistics and size helpers
// both benchmark scripts (bench.js, compare.js) share.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { launchWithExtension } from '../e2e/harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
const builtExtension = join(repoRoot, 'dist', 'extension');

/** The worker saves its search index this long after the last change (extension/src/worker.rs). */
export const SNAPSHOT_QUIET_MS = 3000;
export const IMPORT_CHUNK_BYTES = 1 << 20; // as the popup sends them (popup/src/worker.rs)
export const IMPORT_POLL_MS = 25;
export const POPUP_VIEWPORT = { width: 400, height: 600 };
export const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

// ---------- statistics ----------

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function ms(value) {
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  if (value >= 10) return `${value.toFixed(0)} ms`;
  return `${value.toFixed(value >= 1 ? 1 : 2)} ms`;
}

/** "median (min–max, n runs)" */
export function spread(values, format = ms) {
  return `**${format(median(values))}** (${format(Math.min(...values))}–${format(Math.max(...values))}, ${values.length} runs)`;
}

export const kb = (bytes) => `${(bytes / 1024).toFixed(0)} KB`;
export const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

// ---------- browser ----------

/** A copy of dist/extension, so a rebuild while the bench runs cannot pull files away, plus
 * the benchmark's plain-JavaScript popup (page/plain-popup.*), the first page's peer. */
export function snapshotExtension() {
  if (!existsSync(join(builtExtension, 'manifest.json'))) {
    throw new Error('dist/extension is missing: run scripts/build-extension.sh first');
  }
  const dir = mkdtempSync(join(tmpdir(), 'dreamcatcher-bench-ext-'));
  cpSync(builtExtension, dir, { recursive: true });
  for (const name of ['plain-popup.html', 'plain-popup.js']) cpSync(join(here, 'page', name), join(dir, name));
  return dir;
}

export async function launch(extensionDir) {
  const browser = await launchWithExtension(extensionDir);
  // An extension page that runs nothing of its own: requests sent from it reach the worker
  // through the same runtime messaging as the content script's and the popup's.
  const apiPage = await browser.context.newPage();
  await apiPage.goto(`chrome-extension://${browser.extensionId}/manifest.json`);
  return {
    ...browser,
    apiPage,
    api: (request) => apiPage.evaluate((message) => chrome.runtime.sendMessage(message), request),
    version: (await apiPage.evaluate(() => navigator.userAgent)).match(/Chrome\/([\d.]+)/)?.[1] ?? 'unknown',
  };
}

export function expectType(reply, type, what) {
  if (!reply || reply.type !== type) {
    throw new Error(`${what}: expected a ${type} answer, got ${JSON.stringify(reply).slice(0, 400)}`);
  }
  return reply;
}

/** Empties the library and waits until the worker's delayed index save has run. */
export async function emptyLibrary(browser) {
  const reply = await browser.api({ type: 'delete_all', confirm: true });
  // `all_deleted` (with counts) since the library reports what it removed; `done` before.
  if (reply?.type !== 'done') expectType(reply, 'all_deleted', 'delete_all');
  await sleep(SNAPSHOT_QUIET_MS + 300);
  // Answered once the save (which holds the library) has finished.
  expectType(await browser.api({ type: 'stats' }), 'stats', 'stats');
}

export function base64Chunks(text) {
  const bytes = Buffer.from(text);
  const chunks = [];
  for (let at = 0; at < bytes.length; at += IMPORT_CHUNK_BYTES) {
    chunks.push(bytes.subarray(at, at + IMPORT_CHUNK_BYTES).toString('base64'));
  }
  return { chunks, totalBytes: bytes.length };
}

/** Loads the chunks into the API page (not timed), then imports them as the popup does:
 * begin, every chunk, then polls the status until the summary arrives (timed). */
export async function importFile(browser, fileName, text, timeoutMs) {
  const { chunks, totalBytes } = base64Chunks(text);
  await browser.apiPage.evaluate(() => { globalThis.benchChunks = []; });
  for (const chunk of chunks) {
    await browser.apiPage.evaluate((c) => { globalThis.benchChunks.push(c); }, chunk);
  }
  const result = await browser.apiPage.evaluate(async ({ fileName, totalBytes, pollMs, timeoutMs }) => {
    const send = (m) => chrome.runtime.sendMessage(m);
    const t0 = performance.now();
    const begun = await send({ type: 'import_begin', file_name: fileName, total_bytes: totalBytes });
    if (begun.type !== 'import_started') return { error: begun };
    const importId = begun.import_id;
    const chunks = globalThis.benchChunks;
    let progress = null;
    for (let i = 0; i < chunks.length; i++) {
      progress = await send({ type: 'import_chunk', import_id: importId, data_base64: chunks[i], last: i === chunks.length - 1 });
      if (progress.type !== 'import_progress') return { error: progress };
    }
    const read = performance.now() - t0;
    while (!progress.summary) {
      if (performance.now() - t0 > timeoutMs) return { error: { timeout: timeoutMs, progress } };
      await new Promise((ok) => setTimeout(ok, pollMs));
      progress = await send({ type: 'import_status', import_id: importId });
      if (progress.type !== 'import_progress') return { error: progress };
    }
    return { ms: performance.now() - t0, sentAndParsedMs: read, summary: progress.summary, total: progress.conversations_total };
  }, { fileName, totalBytes, pollMs: IMPORT_POLL_MS, timeoutMs });
  await browser.apiPage.evaluate(() => { delete globalThis.benchChunks; });
  if (result.error) throw new Error(`import of ${fileName}: ${JSON.stringify(result.error).slice(0, 400)}`);
  return result;
}

// ---------- 2. popup ----------

/** Opens a popup page (ours, or the plain-JS peer) in a popup-sized tab and times, from
 * navigation start, the first list row with content inserted and the frame after it (a
 * MutationObserver installed before any of the page's scripts). */
export async function popupFirstRow(browser, pagePath = 'popup.html') {
  const page = await browser.context.newPage();
  await page.setViewportSize(POPUP_VIEWPORT);
  await page.addInitScript(() => {
    const marks = {};
    globalThis.benchPopup = marks;
    const observer = new MutationObserver(() => {
      if (marks.row || !document.querySelector('.list .row:not(.placeholder)')) return;
      marks.row = performance.now();
      observer.disconnect();
      requestAnimationFrame(() => setTimeout(() => { marks.painted = performance.now(); }, 0));
    });
    observer.observe(document, { childList: true, subtree: true });
  });
  await page.goto(`chrome-extension://${browser.extensionId}/${pagePath}`);
  await page.waitForFunction(() => globalThis.benchPopup && globalThis.benchPopup.painted, null, { timeout: 30000 });
  const marks = await page.evaluate(() => ({
    ...globalThis.benchPopup,
    rows: document.querySelectorAll('.list .row:not(.placeholder)').length,
  }));
  await page.close();
  return marks;
}

// ---------- 5. sizes ----------

export function sizes(dir) {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.wasm') || f.endsWith('.js'))
    .sort()
    .map((name) => {
      const bytes = readFileSync(join(dir, name));
      return { name, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
    });
  const total = files.reduce((sum, f) => ({ raw: sum.raw + f.raw, gzip: sum.gzip + f.gzip }), { raw: 0, gzip: 0 });
  return { files, total };
}
