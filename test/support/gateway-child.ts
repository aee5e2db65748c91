/**
 * End-to-end support: the gateway as a **child process** (`node --import tsx
 * src/main.ts`, exactly what `npm start` runs), configured through a config file and
 * environment in a temp dir, against a real nats-server and the simulator. The test
 * can SIGKILL the child at any instant and start it again on the same data dir.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuthenticationCreds, SignalDataSet } from '@whiskeysockets/baileys';
import type { NatsConnection } from '@nats-io/transport-node';
import { openAuthStore } from '../../src/baileys/auth-store.js';
import { cmdSubject } from '../../src/contract/index.js';
import type { ProvisionedAccount } from '../../src/simulator/index.js';
import { fromBufferJson } from './simulator-client.js';

const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
/** tsx compiles src/ and loads Baileys on start; ~1.5 s on the 2-core CI box, 20 s is a hang. */
export const CHILD_START_DEADLINE_MS = 20_000;
/** How often readiness and ledger conditions are re-checked: the state lives in other processes. */
export const POLL_MS = 5;
/** SIGTERM gives the gateway time to drain; past this it is killed. */
const STOP_DEADLINE_MS = 10_000;
/** The last bytes of the child's output, to explain a failure. */
const OUTPUT_TAIL = 20_000;

/** Writes the provisioned credentials where the gateway's auth store reads them. */
export async function writeCredentials(dataDir: string, account: string, provisioned: ProvisionedAccount): Promise<void> {
  const store = await openAuthStore(dataDir, account);
  try {
    // Round-trip through BufferJSON as a client reading them from the control API would.
    Object.assign(store.state.creds, fromBufferJson<AuthenticationCreds>(provisioned.creds));
    await store.saveCreds();
    await store.state.keys.set(fromBufferJson<SignalDataSet>(provisioned.keys));
  } finally {
    await store.close(); // releases the lock for the child
  }
}

export type GatewayConfig = {
  natsUrl: string;
  dataDir: string;
  waUrl: string;
  trustRoot: string;
  accounts: { id: string; connect: boolean }[];
};

export type GatewayChild = {
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything the child wrote (stdout + stderr), tail only. */
  output(): string;
  /** Everything the child wrote since it started, for "no message text in logs" checks. */
  allOutput(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM, wait for the clean exit (SIGKILL after a deadline). */
  stop(): Promise<void>;
};

/**
 * Spawns `node --import tsx src/main.ts` with a JSON config file in `dir`. The URL and
 * trust root also come in through the environment, as an operator would pass them.
 */
export async function spawnGateway(dir: string, config: GatewayConfig): Promise<GatewayChild> {
  const file = join(dir, `gateway-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.json`);
  await writeFile(
    file,
    JSON.stringify({
      log: { level: 'warn' },
      nats: { startLocal: false },
      accounts: config.accounts,
    }),
  );
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      WA_CONND_CONFIG: file,
      NATS_URL: config.natsUrl,
      WA_CONND_DATA_DIR: config.dataDir,
      WA_CONND_WA_URL: config.waUrl,
      WA_CONND_TRUST_ROOT: config.trustRoot,
      // Any free port: the default 8080 may be taken, and a killed child's port may linger.
      WA_CONND_HTTP_PORT: '0',
    },
  });
  let tail = '';
  const chunks: string[] = [];
  const take = (b: Buffer) => {
    const s = b.toString();
    chunks.push(s);
    tail = (tail + s).slice(-OUTPUT_TAIL);
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('exit', (code, signal) => res({ code, signal })));
  if (child.pid === undefined) throw new Error('gateway child did not spawn');
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    pid: child.pid,
    exited,
    output: () => tail,
    allOutput: () => chunks.join(''),
    kill,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_DEADLINE_MS);
      await kill('SIGTERM');
      clearTimeout(timer);
    },
  };
}

/** Resolves with the first truthy value of `probe`, re-checked every `POLL_MS`; rejects after the deadline. */
export async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, deadlineMs: number, pollMs = POLL_MS): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Parsed JSON reply of one command. */
export async function command(nc: NatsConnection, subject: string, body?: unknown, timeoutMs = 5_000): Promise<Record<string, unknown> & { ok: boolean }> {
  const m = await nc.request(subject, body === undefined ? new Uint8Array() : JSON.stringify(body), { timeout: timeoutMs });
  return m.json();
}

/**
 * Ready = the child's command service answers `status` for `account`. A killed
 * predecessor cannot answer: its subscriptions died with its TCP connection.
 */
export async function waitReady(nc: NatsConnection, child: GatewayChild, account: string): Promise<void> {
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  await until(
    `gateway child ${child.pid} answering status`,
    async () => {
      if (exited) throw new Error(`gateway child exited during start-up:\n${child.output()}`);
      try {
        const r = await command(nc, cmdSubject(account, 'status'), undefined, 500);
        return r.ok ? true : undefined;
      } catch {
        return undefined; // no responders yet
      }
    },
    CHILD_START_DEADLINE_MS,
    50,
  );
}

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Small seeded PRNG (mulberry32) so a failing round's kill point can be reproduced. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
