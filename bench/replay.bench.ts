// Replay of held sends against raw Baileys sending the same number one after another, side
// by side in one run (issue 18 item 3). The gateway runs in this process (`startGateway`,
// silent logger) with one account held offline (`connect: false`); REPLAY sends are recorded
// over NATS, then `wa.cmd.<a>.connect`, timed until the gateway reports the last server ack.
// The raw side is a Baileys socket on memory auth in this process, `await sendMessage` one
// after another, timed until the last `<ack class=message>`. Both talk to the simulator CLI
// (its own process); the gateway to its own nats-server. Run for each auth store.
// `REPLAY_N=2000 npm run bench -- replay` runs a smaller backlog (profiling).
import type { AuthenticationCreds } from '@whiskeysockets/baileys';
import type { NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { validateConfig } from '../src/config/load.js';
import { cmdSubject } from '../src/contract/index.js';
import { startGateway, type RunningGateway } from '../src/gateway/start.js';
import type { ProvisionedAccount } from '../src/simulator/index.js';
import { connectClient, type TestClient } from '../test/support/simulator-client.js';
import { connectTo, startNatsServer } from '../test/support/nats-server.js';
import type { BenchSection } from './run.js';
import { control, startSimulatorProcess, type SimulatorProcess } from './sim-process.js';
import { fmt } from './stats.js';
import { memoryAuth, writeCredentials } from '../test/support/credentials.js';
import { tempDir } from '../test/support/temp-dir.js';

/** Issue 18: "replay of 10,000 held sends". */
const REPLAY = Number(process.env['REPLAY_N'] ?? 10_000);
/** Send requests in flight while the backlog is recorded. */
const RECORD_WINDOW = 200;
const CONTACT_PHONE = '15557779999';
const CONTACT = `${CONTACT_PHONE}@s.whatsapp.net`;
/** A batch fails only when it stops making progress: no new server ack for this long. */
const STALL_MS = 30_000;

export const title = 'Replay of held sends';

type Store = 'kv' | 'file';

/** Phase marks on stderr, in µs of the monotonic clock a `--cpu-prof` profile is stamped with. */
function mark(what: string): void {
  process.stderr.write(`mark ${process.hrtime.bigint() / 1000n} ${what}\n`);
}

/** Resolves when `count()` reaches `n`; rejects when it did not move for STALL_MS. */
function reach(count: () => number, n: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = count();
    let last = performance.now();
    const tick = setInterval(() => {
      const c = count();
      if (c >= n) {
        clearInterval(tick);
        resolve();
      } else if (c > seen) {
        seen = c;
        last = performance.now();
      } else if (performance.now() - last > STALL_MS) {
        clearInterval(tick);
        reject(new Error(`${what}: stuck at ${c} of ${n}`));
      }
    }, 2);
  });
}

async function request(nc: NatsConnection, subject: string, body?: unknown): Promise<Record<string, unknown>> {
  const m = await nc.request(subject, body === undefined ? new Uint8Array() : JSON.stringify(body), {
    timeout: 10_000,
  });
  const r = m.json<Record<string, unknown>>();
  if (r['ok'] !== true) throw new Error(`${subject}: ${JSON.stringify(r)}`);
  return r;
}

/** Raw Baileys on memory auth: REPLAY `sendMessage`, each awaited, until the last server ack. */
async function rawSequential(sim: SimulatorProcess): Promise<number> {
  const p = await control<ProvisionedAccount>(sim.http, 'POST', '/accounts', { preKeys: 20 });
  const raw: TestClient = connectClient({ wsUrl: sim.ws }, memoryAuth(p.creds as AuthenticationCreds, p.keys), {
    keepAliveIntervalMs: 30_000,
  });
  try {
    await raw.open();
    await raw.sock.sendMessage(CONTACT, { text: 'warm-up' });
    await reach(() => raw.acks.length, 1, 'raw warm-up ack');
    const before = raw.acks.length;
    const t0 = performance.now();
    mark('raw start');
    for (let i = 0; i < REPLAY; i++) await raw.sock.sendMessage(CONTACT, { text: `raw ${i}` });
    await reach(() => raw.acks.length - before, REPLAY, 'raw acks');
    mark('raw end');
    return performance.now() - t0;
  } finally {
    raw.end();
  }
}

type ReplayRun = {
  ms: number;
  eventsMs: number;
  published: number;
  dropped: string;
  maxBuffered: number;
  recordMs: number;
  openMs: number;
  ledger: number;
  dupes: number;
  outOfOrder: number;
};

/** The gateway on `store`: REPLAY sends recorded while held, then connect, until the last server ack. */
async function gatewayReplay(sim: SimulatorProcess, store: Store): Promise<ReplayRun> {
  const nats = await startNatsServer();
  const dir = await tempDir('wa-connd-bench-');
  const nc = await connectTo(nats.url);
  let running: RunningGateway | undefined;
  try {
    const held = await control<ProvisionedAccount>(sim.http, 'POST', '/accounts', { preKeys: 20 });
    await writeCredentials(`${dir.path}/data`, 'replay', held);
    const config = validateConfig({
      dataDir: `${dir.path}/data`,
      log: { level: 'silent' },
      http: { port: 0 },
      nats: { url: nats.url, startLocal: false },
      whatsapp: { url: sim.ws, trustRootPublicKey: sim.rootPublicKey },
      auth: { store },
      accounts: [{ id: 'replay', connect: false }],
    });
    running = await startGateway(config, pino({ level: 'silent' }));
    const acked = new Set<string>();
    let openAt = 0;
    running.onFact((f) => {
      if (f.account !== 'replay') return;
      if (f.type === 'send.acked' && f.ack === 'server') acked.add(f.id);
      if (f.type === 'transition' && f.to === 'open' && !openAt) openAt = performance.now();
    });
    const r0 = performance.now();
    for (let start = 0; start < REPLAY; start += RECORD_WINDOW) {
      await Promise.all(
        Array.from({ length: Math.min(RECORD_WINDOW, REPLAY - start) }, (_, i) =>
          request(nc, cmdSubject('replay', 'send'), {
            id: `held-${start + i}`,
            to: `+${CONTACT_PHONE}`,
            text: `held ${start + i}`,
          }),
        ),
      );
    }
    const recordMs = performance.now() - r0;
    const c0 = performance.now();
    mark(`gateway ${store} replay start`);
    await request(nc, cmdSubject('replay', 'connect'));
    // The most facts waiting for their publish at once (the event stream trailing the socket).
    const counters = running.layer.counters;
    let maxBuffered = 0;
    const sampler = setInterval(() => {
      maxBuffered = Math.max(maxBuffered, counters.buffered);
    }, 5);
    await reach(() => acked.size, REPLAY, 'gateway replay acks').catch((err: unknown) => {
      clearInterval(sampler);
      throw err;
    });
    const ms = performance.now() - c0;
    mark(`gateway ${store} replay end`);
    // Every outcome must also be an event in WA_EVENTS: time until the publisher has nothing left.
    const flushed = await running.layer.publisher.flushed('replay', 300_000);
    const eventsMs = performance.now() - c0;
    clearInterval(sampler);
    const { published, buffered } = counters.snapshot();
    const dropped = counters
      .droppedBy()
      .map((d) => `${d.count} ${d.type} (${d.reason})`)
      .join(', ');
    if (!flushed) throw new Error(`events of the replay not flushed (${buffered} buffered)`);
    const ledger = await control<{ entries: { count: number; text?: string }[] }>(
      sim.http,
      'GET',
      `/ledger?account=${held.account.phone}`,
    );
    // In order per chat: the ledger lists messages in arrival order; `held i` must follow `held i-1`.
    const order = ledger.entries.map((e) => Number(/held (\d+)/.exec(e.text ?? '')?.[1] ?? -1));
    const outOfOrder = order.filter((v, i) => i > 0 && v < order[i - 1]!).length;
    return {
      ms,
      eventsMs,
      published,
      dropped: dropped || 'none',
      maxBuffered,
      recordMs,
      openMs: openAt - c0,
      ledger: ledger.entries.length,
      dupes: ledger.entries.filter((e) => e.count > 1).length,
      outOfOrder,
    };
  } finally {
    await running?.close().catch(() => undefined);
    await nc.close().catch(() => undefined);
    await nats.stop();
    await dir.remove();
  }
}

export default async function bench(): Promise<BenchSection> {
  const sim = await startSimulatorProcess();
  try {
    // Alternating, so drift on the shared box hits both sides alike.
    const rawA = await rawSequential(sim);
    const kv = await gatewayReplay(sim, 'kv');
    const rawB = await rawSequential(sim);
    // REPLAY_FILE=0 skips the file store (a quicker run while profiling).
    const file = process.env['REPLAY_FILE'] === '0' ? kv : await gatewayReplay(sim, 'file');
    // Against the faster raw run: the conservative ratio (Baileys' event buffer can slow a raw run, see docs).
    const rawMs = Math.min(rawA, rawB);
    const rate = (ms: number) => (REPLAY / ms) * 1000;
    process.stderr.write(
      `replay msg/s: raw ${fmt(rate(rawA), 0)}/${fmt(rate(rawB), 0)}, gateway kv ${fmt(rate(kv.ms), 0)}, file ${fmt(rate(file.ms), 0)}\n`,
    );
    const row = (name: string, r: ReplayRun) =>
      `| ${name} | ${fmt(r.ms / 1000, 2)} | ${fmt(rate(r.ms), 0)} | ${fmt(rate(r.ms) / rate(rawMs), 2)}× | ${fmt(r.eventsMs / 1000, 2)} | ${r.maxBuffered} | ${r.published} / ${r.dropped} | ${fmt(r.openMs, 0)} | ${r.ledger} / ${r.dupes} / ${r.outOfOrder} |`;
    const markdown = [
      `${REPLAY} sends. *raw*: a Baileys 7.0.0-rc14 socket on memory auth in the bench process, \`await sock.sendMessage(contact, {text})\``,
      'one after another, until the last `<ack class=message>`. *gateway*: `startGateway` in the bench process (logger silent, its own',
      `nats-server), one account with \`connect: false\`; ${REPLAY} \`wa.cmd.replay.send\` recorded over NATS (${RECORD_WINDOW} in flight), then`,
      '`wa.cmd.replay.connect`, timed from the request until the gateway reports the last `send.acked` (ack: server). No send pacing.',
      'The raw run is done before and after the gateway runs (raw, kv, raw, file); the ratio is against the faster of the two.',
      '',
      '| | seconds to the last server ack | messages/s | / raw | seconds until every event is in `WA_EVENTS` | most facts waiting to be published | events published / dropped | socket open after (ms) | ledger: messages / repeated id / out of order |',
      '|---|---|---|---|---|---|---|---|---|',
      `| raw Baileys, memory auth, one after another (the faster of its two runs) | ${fmt(rawMs / 1000, 2)} | ${fmt(rate(rawMs), 0)} (runs: ${fmt(rate(rawA), 0)}, ${fmt(rate(rawB), 0)}) | 1.00× | | | | | |`,
      row('gateway replay, `auth.store: kv` (default)', kv),
      row('gateway replay, `auth.store: file`', file),
      '',
      `Recording the backlog: ${fmt(REPLAY / (kv.recordMs / 1000), 0)} commands/s (kv), ${fmt(REPLAY / (file.recordMs / 1000), 0)} (file).`,
    ].join('\n');
    return { title, markdown };
  } finally {
    sim.stop();
  }
}
