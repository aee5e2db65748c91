// Simulator benchmarks: connect-to-open and send→server-ack round trip with real Baileys, and
// the simulator's memory per session at 100 and 1,000 sessions. The simulator runs as its own
// process (the CLI, with --expose-gc) so its memory is measured apart from the clients.
import { WA_CERT_DETAILS, type AuthenticationCreds } from '@whiskeysockets/baileys';
import type { BenchSection } from './run.js';
import { control, PROVISION_PREKEYS, startSimulatorProcess } from './sim-process.js';
import { fmt, median, percentile } from './stats.js';
import { connectClient, type TestClient } from '../test/support/simulator-client.js';
import { anonymousDevice, rawLogin, type RawClient } from '../test/support/raw-client.js';
import { memoryAuth } from '../test/support/credentials.js';

/** Samples per latency measurement (the brief asks for ≥ 100). */
const SAMPLES = 120;
/** Session counts whose simulator-side memory we report. */
const SESSION_STEPS = [100, 1_000] as const;
/** Raw logins in flight at once while filling the simulator. */
const LOGIN_CONCURRENCY = 50;
const CONTACT = '15557779999@s.whatsapp.net';

interface Stats {
  pid: number;
  memory: NodeJS.MemoryUsage;
  sessions: number;
}

async function provisionedAuth(base: string) {
  const r = await control<{ creds: AuthenticationCreds; keys: Record<string, Record<string, unknown>> }>(
    base,
    'POST',
    '/accounts',
    { preKeys: PROVISION_PREKEYS },
  );
  return memoryAuth(r.creds, r.keys);
}

async function measureConnect(ws: string, base: string): Promise<number[]> {
  const auth = await provisionedAuth(base);
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES + 1; i++) {
    const started = performance.now();
    const client = connectClient({ wsUrl: ws }, auth, { keepAliveIntervalMs: 30_000 });
    await client.open();
    const took = performance.now() - started;
    // The first login of a device does one-off work (own LID session): not a sample.
    if (i > 0) samples.push(took);
    client.end();
    await client.closed();
  }
  return samples;
}

async function measureSend(ws: string, base: string): Promise<number[]> {
  const client: TestClient = connectClient({ wsUrl: ws }, await provisionedAuth(base), { keepAliveIntervalMs: 30_000 });
  await client.open();
  // Warm-up: the first send fetches devices and prekeys.
  const warm = await client.sock.sendMessage(CONTACT, { text: 'warm-up' });
  await client.until('warm-up ack', () => client.acks.find((a) => a.id === warm?.key.id));
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const started = performance.now();
    const sent = await client.sock.sendMessage(CONTACT, { text: `bench ${i}` });
    await client.until('ack', () => client.acks.find((a) => a.id === sent?.key.id));
    samples.push(performance.now() - started);
  }
  client.end();
  return samples;
}

async function measureMemory(
  ws: string,
  base: string,
): Promise<{ sessions: number; rssMiB: number; heapMiB: number; perSessionKiB: number; perSessionHeapKiB: number }[]> {
  const baseline = (await control<Stats>(base, 'GET', '/stats')).memory;
  const raws: RawClient[] = [];
  const rows = [];
  let next = 0;
  for (const target of SESSION_STEPS) {
    while (raws.length < target) {
      const n = Math.min(LOGIN_CONCURRENCY, target - raws.length);
      const batch = Array.from({ length: n }, () =>
        rawLogin(ws, anonymousDevice(String(17_770_000_000 + next++)), { verifyCertificate: false }),
      );
      raws.push(...(await Promise.all(batch)));
    }
    const stats = await control<Stats>(base, 'GET', '/stats');
    rows.push({
      sessions: stats.sessions,
      rssMiB: stats.memory.rss / 2 ** 20,
      heapMiB: stats.memory.heapUsed / 2 ** 20,
      perSessionKiB: (stats.memory.rss - baseline.rss) / target / 1024,
      perSessionHeapKiB:
        (stats.memory.heapUsed + stats.memory.external - baseline.heapUsed - baseline.external) / target / 1024,
    });
  }
  for (const r of raws) r.ws.terminate();
  return rows;
}

export const title = 'Simulator';

export default async function bench(): Promise<BenchSection> {
  const sim = await startSimulatorProcess();
  try {
    // Trust the simulator's root in this (client) process only.
    WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(sim.rootPublicKey, 'base64');
    const memory = await measureMemory(sim.ws, sim.http);
    const connect = await measureConnect(sim.ws, sim.http);
    const send = await measureSend(sim.ws, sim.http);
    const row = (name: string, s: number[]): string =>
      `| ${name} | ${s.length} | ${fmt(median(s))} | ${fmt(percentile(s, 99))} | ${fmt(Math.min(...s))} | ${fmt(Math.max(...s))} |`;
    const markdown = [
      'Real Baileys 7.0.0-rc14 clients against the simulator (CLI, separate process) on loopback.',
      '`connect → open`: a new socket for a provisioned device until `connection: open` (handshake, login, prekey count, passive, digest).',
      '`send → server ack`: `sendMessage` of a text to a contact with an established session until the raw `<ack class=message>` frame reaches the client.',
      '',
      '| measurement (ms) | samples | median | p99 | min | max |',
      '|---|---|---|---|---|---|',
      row('connect → open', connect),
      row('send → server ack', send),
      '',
      "Simulator-side memory with N logged-in sessions (raw Noise clients: Baileys' Noise handler without the socket machinery, in the bench process; devices registered on first login). Measured by `GET /stats` after a forced GC; per-session figures are the growth over the empty simulator divided by N.",
      '',
      '| sessions | RSS (MiB) | heap used (MiB) | RSS per session (KiB) | heap+external per session (KiB) |',
      '|---|---|---|---|---|',
      ...memory.map(
        (m) =>
          `| ${m.sessions} | ${fmt(m.rssMiB)} | ${fmt(m.heapMiB)} | ${fmt(m.perSessionKiB)} | ${fmt(m.perSessionHeapKiB)} |`,
      ),
    ].join('\n');
    return { title, markdown };
  } finally {
    sim.stop();
  }
}
