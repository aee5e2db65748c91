/**
 * CLI test support: `wa-connd` run as a child process (`node bin/wa-connd.mjs`, what
 * the `bin` entry runs), and a gateway started in-process with `startGateway` against
 * a real nats-server and the simulator, with provisioned accounts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { configSchema } from '../../src/config/schema.js';
import { validateConfig } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/gateway/start.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { tempDir, writeCredentials } from '../support/gateway-child.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const BIN = resolve(REPO_ROOT, 'bin', 'wa-connd.mjs');
/** tsx compiles the CLI on start (~0.7 s); a command that has not finished in 30 s hangs. */
export const CLI_DEADLINE_MS = 30_000;

export type CliResult = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

export type CliChild = {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout matches, rejects on exit or after the deadline. */
  waitFor(pattern: RegExp, deadlineMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<CliResult>;
};

/** Starts `wa-connd <args>`; the environment is the test's plus `env`, with no config file unless given. */
export function startCli(args: string[], env: Record<string, string | undefined> = {}): CliChild {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, WA_CONND_CONFIG: undefined, ...env };
  for (const k of Object.keys(childEnv)) if (childEnv[k] === undefined) delete childEnv[k];
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
    for (const l of [...listeners]) l();
  });
  child.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const exited = new Promise<CliResult>((res) => child.once('close', (code, signal) => res({ code, signal, stdout: out, stderr: err })));
  let done = false;
  void exited.then(() => {
    done = true;
    for (const l of [...listeners]) l();
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (pattern, deadlineMs = CLI_DEADLINE_MS) =>
      new Promise((resolvePromise, reject) => {
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            finish();
            resolvePromise(m);
          } else if (done) {
            finish();
            reject(new Error(`wa-connd ${args.join(' ')} exited before printing ${pattern}:\n${out}\n${err}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`wa-connd ${args.join(' ')}: no ${pattern} within ${deadlineMs} ms:\n${out}\n${err}`));
        }, deadlineMs);
        const finish = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      }),
  };
}

/** Runs `wa-connd <args>` to completion (killed past the deadline). */
export async function runCli(args: string[], env: Record<string, string | undefined> = {}, deadlineMs = CLI_DEADLINE_MS): Promise<CliResult> {
  const c = startCli(args, env);
  const timer = setTimeout(() => c.child.kill('SIGKILL'), deadlineMs);
  const r = await c.exited;
  clearTimeout(timer);
  return r;
}

export { writeCredentials };

export type World = {
  nats: NatsServer;
  sim: RunningSimulator;
  gateway: RunningGateway;
  dataDir: string;
  /** Simulator phone of each provisioned account. */
  phones: Map<string, string>;
  /** Environment that points a CLI child at this world's NATS. */
  env: Record<string, string>;
  close(): Promise<void>;
};

/** nats-server + simulator + an in-process gateway running `accounts` (provisioned, so already paired). */
export async function startWorld(accounts: string[]): Promise<World> {
  const nats = await startNatsServer();
  const sim = await startSimulator();
  const dir = await tempDir('wa-connd-cli-');
  const phones = new Map<string, string>();
  for (const id of accounts) {
    const p = sim.provisionAccount({ preKeys: 10 });
    phones.set(id, p.account.phone);
    await writeCredentials(dir.path, id, p);
  }
  const raw: Record<string, unknown> = {
    dataDir: dir.path,
    log: { level: 'silent' },
    nats: { url: nats.url, startLocal: false },
    whatsapp: { url: sim.wsUrl, trustRootPublicKey: sim.rootPublicKey },
    accounts: accounts.map((id) => ({ id })),
  };
  if ('http' in configSchema.shape) raw.http = { port: 0 };
  const gateway = await startGateway(validateConfig(raw), pino({ level: 'silent' }));
  return {
    nats,
    sim,
    gateway,
    dataDir: dir.path,
    phones,
    env: { NATS_URL: nats.url },
    close: async () => {
      await gateway.close();
      await sim.close();
      await nats.stop();
      await dir.remove();
    },
  };
}
