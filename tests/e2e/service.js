// The real PipelineOS Dreamcatcher service for the end-to-end tests: the `dreamcatcher-server`
// binary the workspace builds, run as its own process on a SQLite data folder, killed with
// SIGKILL and started again on the same folder and port as a crash would.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { repoRoot } from './harness.js';

export const serverBinary = process.env.DREAMCATCHER_SERVER
  || join(repoRoot, 'target', 'debug', 'dreamcatcher-server');

async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A service on a fresh data folder; `start()` it (again after `kill()`). */
export async function createService({ env = {} } = {}) {
  if (!existsSync(serverBinary)) {
    throw new Error(`${serverBinary} is missing: run \`cargo build -p dreamcatcher-server\` first`);
  }
  const data = mkdtempSync(join(tmpdir(), 'dreamcatcher-service-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child = null;
  let log = '';
  const cli = (...args) => execFileSync(serverBinary, ['--data', data, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  const service = {
    url,
    data,
    get log() { return log; },
    get running() { return child !== null; },
    async start() {
      if (child) return;
      child = spawn(serverBinary, ['--data', data, 'serve', '--listen', `127.0.0.1:${port}`], {
        env: { ...process.env, RUST_LOG: 'warn', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const mine = child;
      mine.stdout.on('data', (d) => { log += d; });
      mine.stderr.on('data', (d) => { log += d; });
      mine.on('exit', () => { if (child === mine) child = null; });
      const deadline = Date.now() + 20000;
      while (Date.now() < deadline) {
        if (!child) throw new Error(`the service exited at start:\n${log}`);
        try {
          const reply = await fetch(`${url}/health`);
          if (reply.ok) return;
        } catch { /* not listening yet */ }
        await sleep(50);
      }
      throw new Error(`the service did not answer /health within 20 s:\n${log}`);
    },
    /** SIGKILL: no shutdown of any kind, as a crash or power loss. */
    async kill() {
      const victim = child;
      if (!victim) return;
      const exited = new Promise((r) => victim.once('exit', r));
      victim.kill('SIGKILL');
      await exited;
      child = null;
    },
    addUser(name) { cli('user', 'add', name); },
    /** A pairing code for `user` (the last line the CLI prints). */
    pairingCode(user) { return cli('pair', user).trim().split('\n').pop().trim(); },
    /** A device token for `user`, for REST calls from the tests. */
    token(user) { return cli('token', 'create', user).trim().split('\n').pop().trim(); },
    async request(method, path, { token, body, headers = {} } = {}) {
      const reply = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
      });
      const text = await reply.text();
      let json = null;
      try { json = JSON.parse(text); } catch { /* not JSON */ }
      return { status: reply.status, json, text, headers: reply.headers };
    },
    /** Every dream of the token's user, through the paged list. */
    async dreams(token) {
      const items = [];
      let cursor = null;
      do {
        const query = `limit=200${cursor ? `&cursor=${cursor}` : ''}`;
        const page = await service.request('GET', `/api/v1/dreams?${query}`, { token });
        if (page.status !== 200) throw new Error(`GET /api/v1/dreams: ${page.status} ${page.text}`);
        items.push(...page.json.items);
        cursor = page.json.next_cursor;
      } while (cursor);
      return items;
    },
    async close() {
      await service.kill();
      rmSync(data, { recursive: true, force: true });
    },
  };
  return service;
}

/** Polls `check` until it returns a truthy value (returned) or `timeout` ms pass (throws). */
export async function eventually(what, check, { timeout = 60000, every = 200 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    await sleep(every);
  }
  throw new Error(`${what}: not within ${timeout} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}
