// The simulator as its own process for the benchmarks (the CLI, with --expose-gc), and the
// control-API calls they use. A separate process keeps its CPU off the measured event loop
// and its memory out of the measured RSS.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BufferJSON, type AuthenticationCreds } from '@whiskeysockets/baileys';
import type { LedgerEntry } from '../src/simulator/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** tsx compiles the simulator on start; a cold start on a busy 2-core box takes seconds. */
const START_DEADLINE_MS = 30_000;
/** Prekeys created at provisioning, so a first login uploads none (812 would cost seconds of CPU each). */
export const PROVISION_PREKEYS = 20;

export interface SimulatorProcess {
  ws: string;
  http: string;
  rootPublicKey: string;
  stop(): void;
}

export async function startSimulatorProcess(): Promise<SimulatorProcess> {
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', 'src/simulator/cli.ts', '--log-level', 'warn'],
    { cwd: root },
  );
  child.stderr.resume();
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('simulator did not start')), START_DEADLINE_MS);
    createInterface({ input: child.stdout }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  return {
    ...(JSON.parse(line) as { ws: string; http: string; rootPublicKey: string }),
    stop: () => child.kill('SIGTERM'),
  };
}

export async function control<T>(base: string, method: string, route: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(`${base}${route}`, init);
  const reply = JSON.parse(await res.text(), BufferJSON.reviver) as T & {
    ok: boolean;
    error?: { code: string; message: string };
  };
  if (!reply.ok) throw new Error(`simulator ${method} ${route}: ${reply.error?.code ?? res.status}`);
  return reply;
}

export interface Provisioned {
  phone: string;
  creds: AuthenticationCreds;
  keys: Record<string, Record<string, unknown>>;
}

export async function provision(base: string): Promise<Provisioned> {
  const r = await control<{
    account: { phone: string };
    creds: AuthenticationCreds;
    keys: Record<string, Record<string, unknown>>;
  }>(base, 'POST', '/accounts', { preKeys: PROVISION_PREKEYS });
  return { phone: r.account.phone, creds: r.creds, keys: r.keys };
}

/** One-shot `<stream:error code=408>` on the account's session; throws if it has none. */
export async function drop408(base: string, phone: string): Promise<void> {
  const { connections } = await control<{ connections: string[] }>(base, 'POST', '/actions', {
    account: phone,
    type: 'stream-error',
    code: 408,
  });
  if (connections.length === 0) throw new Error(`simulator: no session of ${phone} to drop`);
}

export async function ledger(base: string, phone: string): Promise<LedgerEntry[]> {
  return (await control<{ entries: LedgerEntry[] }>(base, 'GET', `/ledger?account=${phone}`)).entries;
}
