import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BufferJSON } from '@whiskeysockets/baileys';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AuthStore, openAuthStore } from '../../src/baileys/auth-store.js';
import { WaError } from '../../src/contract/index.js';
import { Waiters } from '../support/waiters.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const STORE_MODULE = fileURLToPath(new URL('../../src/baileys/auth-store.ts', import.meta.url));
/** How long a child may take to reach a state; generous for cold tsx start-up. */
const CHILD_DEADLINE_MS = 15_000;

let dataDir: string;
const open: AuthStore[] = [];
const children: ChildProcess[] = [];

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'wa-connd-auth-'));
});

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of open.splice(0)) await s.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function openStore(account: string) {
  const s = await openAuthStore(dataDir, account);
  open.push(s);
  return s;
}

async function closeStore(s: AuthStore) {
  await s.close();
  open.splice(open.indexOf(s), 1);
}

/** Serialised the way the store writes it: equal JSON means equal state (Buffers included). */
const asJson = (v: unknown) => JSON.stringify(v, BufferJSON.replacer);

/**
 * A child process that opens the store for `account` and then either saves creds in
 * a loop (`write`, printing each completed save) or holds the lock (`hold`).
 */
const CHILD_SCRIPT = `
import { createHash, randomBytes } from 'node:crypto';
import { openAuthStore } from ${JSON.stringify(STORE_MODULE)};
const [dataDir, account, mode] = process.argv.slice(2);
const store = await openAuthStore(dataDir, account);
if (mode === 'hold') { console.log('locked'); setInterval(() => {}, 1000); }
else {
  for (let i = 1; ; i++) {
    // Big, varying payloads (up to ~2.7 MB of JSON, written in several chunks): a
    // kill then often lands while a file is half written.
    const payload = randomBytes(1 + Math.floor(Math.random() * 2_000_000)).toString('base64');
    store.state.creds.additionalData = { i, payload, sha: createHash('sha256').update(payload).digest('hex') };
    await Promise.all([store.saveCreds(), store.state.keys.set({ session: { ['s' + (i % 7)]: randomBytes(64) } })]);
    console.log(i);
  }
}
`;

async function startChild(account: string, mode: 'write' | 'hold') {
  const script = join(dataDir, `child-${mode}.mts`);
  await writeFile(script, CHILD_SCRIPT);
  const child = spawn(process.execPath, ['--import', 'tsx', script, dataDir, account, mode], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: string[] = [];
  let partial = '';
  let exited = false;
  const waiters = new Waiters();
  child.stdout?.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    waiters.poke();
  });
  child.once('exit', () => {
    exited = true;
    waiters.poke();
  });
  /** Resolves once `predicate(lines)` holds; fails at the deadline or if the child dies. */
  const until = (predicate: (lines: string[]) => boolean): Promise<void> =>
    waiters
      .until(
        () => `the child (${mode}); stderr:\n${stderr}`,
        () => {
          if (predicate(lines)) return true;
          if (exited) throw new Error(`child exited early; stderr:\n${stderr}`);
          return undefined;
        },
        CHILD_DEADLINE_MS,
      )
      .then(() => undefined);
  const kill = () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  return { child, lines, until, kill };
}

describe('when several accounts write concurrently', () => {
  it('reloads exactly the last value written to every file of every account', async () => {
    const accounts = ['acct-a', 'acct-b', 'acct-c', 'acct-d', 'acct-e'];
    const stores = await Promise.all(accounts.map(openStore));
    const expectedCreds = new Map<string, unknown>();
    const expectedKeys = new Map<string, Map<string, Uint8Array | null>>(accounts.map((a) => [a, new Map()]));

    // 5 accounts × 300 operations, all in flight at once, never awaited one by one:
    // the way Baileys fires creds.update and keys.set from its event handlers.
    const ops = fc.sample(
      fc.record({
        account: fc.integer({ min: 0, max: accounts.length - 1 }),
        kind: fc.constantFrom('creds', 'key', 'key', 'delete'),
        id: fc.constantFrom('1@s.whatsapp.net.0', '2:3@lid', 'grp@g.us::4::0', 'a/b', 'a-b', 'a:b', '..'),
        n: fc.nat(),
      }),
      { numRuns: 1500, seed: 42 },
    );
    const pending: Promise<void>[] = [];
    for (const op of ops) {
      const account = accounts[op.account]!;
      const store = stores[op.account]!;
      if (op.kind === 'creds') {
        store.state.creds.additionalData = { n: op.n, blob: randomBytes(op.n % 5000) };
        expectedCreds.set(account, asJson(store.state.creds));
        pending.push(store.saveCreds());
      } else {
        const value = op.kind === 'key' ? randomBytes(32 + (op.n % 64)) : null;
        expectedKeys.get(account)!.set(op.id, value);
        pending.push(Promise.resolve(store.state.keys.set({ session: { [op.id]: value } })));
      }
    }
    await Promise.all(pending);
    for (const s of stores) await closeStore(s);

    for (const account of accounts) {
      const reopened = await openStore(account);
      if (expectedCreds.has(account)) expect(asJson(reopened.state.creds)).toBe(expectedCreds.get(account));
      const model = expectedKeys.get(account)!;
      const got = await reopened.state.keys.get('session', [...model.keys()]);
      for (const [id, value] of model) {
        if (value === null) expect(got[id]).toBeUndefined();
        else expect(Buffer.from(got[id]!).equals(Buffer.from(value))).toBe(true);
      }
      // Only the files we wrote: no temp file survived, ids did not collide.
      const names = await readdir(join(dataDir, account));
      expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
      expect(names.filter((n) => n.startsWith('session~')).length).toBe([...model.values()].filter(Boolean).length);
    }
  });

  it('restores app-state-sync keys as protobuf objects', async () => {
    const s = await openStore('acct-p');
    await s.state.keys.set({ 'app-state-sync-key': { k1: { keyData: randomBytes(32), timestamp: 5 } } });
    await closeStore(s);
    const r = await openStore('acct-p');
    const { k1 } = await r.state.keys.get('app-state-sync-key', ['k1']);
    expect(k1?.keyData?.length).toBe(32);
  });
});

describe('when the writing process is killed mid-write', () => {
  it('never leaves a partial creds.json, and keeps every save that completed', async () => {
    for (let round = 0; round < 8; round++) {
      const writer = await startChild('crash', 'write');
      const killAfter = 1 + Math.floor(Math.random() * 5);
      await writer.until((lines) => lines.length >= killAfter);
      // The random kill point is what this test is about (not a wait for a condition):
      // somewhere inside the next save.
      await new Promise((r) => setTimeout(r, Math.random() * 40));
      await writer.kill();
      const lastCompleted = Number(writer.lines.at(-1));

      const raw = await readFile(join(dataDir, 'crash', 'creds.json'), 'utf8');
      const creds = JSON.parse(raw, BufferJSON.reviver);
      const { i, payload, sha } = creds.additionalData as { i: number; payload: string; sha: string };
      expect(createHash('sha256').update(payload).digest('hex')).toBe(sha);
      expect(i).toBeGreaterThanOrEqual(lastCompleted);

      // The next owner takes over the dead process's lock and sweeps its temp files.
      const next = await openStore('crash');
      expect(asJson(next.state.creds)).toBe(asJson(creds));
      expect((await readdir(join(dataDir, 'crash'))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      await closeStore(next);
    }
  }, 120_000);
});

describe('when files are created', () => {
  it('makes them 0600 in a 0700 account dir', async () => {
    const s = await openStore('acct-m');
    await s.saveCreds();
    await s.state.keys.set({ 'pre-key': { '1': { public: randomBytes(32), private: randomBytes(32) } } });
    const dir = join(dataDir, 'acct-m');
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    for (const name of await readdir(dir))
      expect([name, (await stat(join(dir, name))).mode & 0o777]).toEqual([name, 0o600]);
  });
});

describe('when a second writer opens the same account', () => {
  it('refuses it in the same process', async () => {
    await openStore('acct-l');
    const err = await openAuthStore(dataDir, 'acct-l').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaError);
    expect((err as WaError).code).toBe('unavailable');
  });

  it('refuses it while another live process holds the lock', async () => {
    const holder = await startChild('acct-x', 'hold');
    await holder.until((lines) => lines.includes('locked'));
    const err = await openAuthStore(dataDir, 'acct-x').catch((e: unknown) => e);
    expect((err as WaError).code).toBe('unavailable');
    expect((err as WaError).message).toContain(String(holder.child.pid));
    await holder.kill();
    await openStore('acct-x'); // dead holder: lock taken over
  }, 30_000);

  it('lets it in after the first one closed', async () => {
    const first = await openStore('acct-o');
    await closeStore(first);
    await openStore('acct-o');
  });
});

describe('when credentials are damaged or cleared', () => {
  it('refuses a corrupt creds.json instead of starting over unpaired', async () => {
    const s = await openStore('acct-c');
    await s.saveCreds();
    await closeStore(s);
    await writeFile(join(dataDir, 'acct-c', 'creds.json'), '{"noiseKey":');
    const err = await openAuthStore(dataDir, 'acct-c').catch((e: unknown) => e);
    expect((err as WaError).code).toBe('internal');
    expect(await readFile(join(dataDir, 'acct-c', 'creds.json'), 'utf8')).toBe('{"noiseKey":');
  });

  it('clear() removes everything and starts from fresh credentials', async () => {
    const s = await openStore('acct-z');
    s.state.creds.additionalData = { paired: true };
    await s.saveCreds();
    await s.state.keys.set({ session: { x: randomBytes(8) } });
    const before = asJson(s.state.creds);
    await s.clear();
    expect((await readdir(join(dataDir, 'acct-z'))).filter((n) => n !== '.lock')).toEqual([]);
    expect(asJson(s.state.creds)).not.toBe(before);
    expect(await s.state.keys.get('session', ['x'])).toEqual({});
    await closeStore(s);
    const again = await openStore('acct-z');
    expect(again.state.creds.additionalData).toBeUndefined();
  });

  it('refuses an account id that would escape the data dir', async () => {
    await expect(openAuthStore(dataDir, '../etc')).rejects.toBeInstanceOf(WaError);
  });
});
