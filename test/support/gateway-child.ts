/**
 * Our code as a **child process**: the gateway as `npm start` runs it (`node --import tsx
 * src/main.ts`, configured through a config file and the environment) or any `wa-connd`
 * command as the `bin` entry runs it (`node bin/wa-connd.mjs`). Output is kept for
 * assertions and failure messages; the test can SIGKILL the child at any instant and
 * start it again on the same data dir.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import { cmdSubject } from '../../src/contract/index.js';
import { request } from './nats-client.js';
import { until, Waiters } from './waiters.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const BIN = resolve(REPO_ROOT, 'bin', 'wa-connd.mjs');
/** tsx compiles src/ and loads Baileys on start; ~1.5 s on the 2-core CI box, 20 s is a hang. */
export const CHILD_START_DEADLINE_MS = 20_000;
/** tsx compiles the CLI on start (~0.7 s); a command that has not finished in 30 s hangs. */
export const CLI_DEADLINE_MS = 30_000;
/** SIGTERM gives the gateway time to drain; past this it is killed. */
const STOP_DEADLINE_MS = 10_000;
/** The last bytes of the child's output, to explain a failure. */
const OUTPUT_TAIL = 20_000;
/** How often readiness is re-asked: the command service answers only once the child is up. */
const READY_POLL_MS = 50;
/** A status request to a child still starting: no responders answers at once, a hang is not ready. */
const READY_REQUEST_TIMEOUT_MS = 500;

export type ChildResult = {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
};

export type GatewayChild = {
  readonly child: ReturnType<typeof spawn>;
  readonly pid: number;
  /** Resolves once the child exited and its output is closed. */
  readonly exited: Promise<ChildResult>;
  stdout(): string;
  stderr(): string;
  /** The tail of everything the child wrote (stdout + stderr), to explain a failure. */
  output(): string;
  /** Everything the child wrote since it started, for "no message text in logs" checks. */
  allOutput(): string;
  /** Resolves once stdout matches; rejects on exit or after the deadline. */
  waitFor(pattern: RegExp, deadlineMs?: number): Promise<RegExpMatchArray>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM, wait for the clean exit (SIGKILL after a deadline). */
  stop(): Promise<void>;
};

/** `node <args>` in the repository; the environment is the test's plus `env` (undefined removes a variable). */
function startChild(name: string, args: string[], env: Record<string, string | undefined>): GatewayChild {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const k of Object.keys(childEnv)) if (childEnv[k] === undefined) delete childEnv[k];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name} did not spawn`);
  let out = '';
  let err = '';
  let all = '';
  let closed = false;
  const waiters = new Waiters();
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    all += b.toString();
    waiters.poke();
  });
  child.stderr.on('data', (b: Buffer) => {
    err += b.toString();
    all += b.toString();
  });
  const exited = new Promise<ChildResult>((res) =>
    child.once('close', (code, signal) => {
      closed = true;
      waiters.poke();
      res({ code, signal, stdout: out, stderr: err });
    }),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (running()) child.kill(signal);
    await exited;
  };
  return {
    child,
    pid: child.pid,
    exited,
    stdout: () => out,
    stderr: () => err,
    output: () => all.slice(-OUTPUT_TAIL),
    allOutput: () => all,
    waitFor: (pattern, deadlineMs = CLI_DEADLINE_MS) =>
      waiters.until(
        () => `${name} printing ${pattern}:\n${out}\n${err}`,
        () => {
          const m = out.match(pattern);
          if (m) return m;
          if (closed) throw new Error(`${name} exited before printing ${pattern}:\n${out}\n${err}`);
          return undefined;
        },
        deadlineMs,
      ),
    kill,
    stop: async () => {
      if (!running()) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_DEADLINE_MS);
      await kill('SIGTERM');
      clearTimeout(timer);
    },
  };
}

/** Starts `wa-connd <args>`; the environment is the test's plus `env`, with no config file unless given. */
export function startCli(args: string[], env: Record<string, string | undefined> = {}): GatewayChild {
  return startChild(`wa-connd ${args.join(' ')}`, [BIN, ...args], {
    WA_CONND_CONFIG: undefined,
    ...env,
  });
}

/** Runs `wa-connd <args>` to completion (killed past the deadline). */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  deadlineMs = CLI_DEADLINE_MS,
): Promise<ChildResult> {
  const c = startCli(args, env);
  const timer = setTimeout(() => c.child.kill('SIGKILL'), deadlineMs);
  const r = await c.exited;
  clearTimeout(timer);
  return r;
}

export type GatewayConfig = {
  natsUrl: string;
  dataDir: string;
  waUrl: string;
  trustRoot: string;
  /** Per account: id, connect, and any account setting (keepalive, timings…). */
  accounts: ({ id: string; connect: boolean } & Record<string, unknown>)[];
  /** More of the config file (`defaults`, `webhooks`, `log`…), laid over the keys above. */
  settings?: Record<string, unknown>;
  /** More environment for the child (say, a fixed `WA_CONND_HTTP_PORT` to scrape). */
  env?: Record<string, string>;
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
      ...config.settings,
    }),
  );
  return startChild('gateway child', ['--import', 'tsx', 'src/main.ts'], {
    WA_CONND_CONFIG: file,
    NATS_URL: config.natsUrl,
    WA_CONND_DATA_DIR: config.dataDir,
    WA_CONND_WA_URL: config.waUrl,
    WA_CONND_TRUST_ROOT: config.trustRoot,
    // Any free port: the default 8080 may be taken, and a killed child's port may linger.
    WA_CONND_HTTP_PORT: '0',
    ...config.env,
  });
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
        const r = await request(nc, cmdSubject(account, 'status'), undefined, READY_REQUEST_TIMEOUT_MS);
        return r.ok ? true : undefined;
      } catch {
        return undefined; // no responders yet
      }
    },
    CHILD_START_DEADLINE_MS,
    READY_POLL_MS,
  );
}
