// Send path and replay. The gateway runs in this process (`startGateway` with a config
// from `validateConfig`, silent logger) next to a raw Baileys client; both talk to the
// simulator CLI (its own process) and the gateway to its own nats-server. Side by side
// in one run, in alternating blocks:
// - raw: `sock.sendMessage(contact, text)` until the `<ack class=message>` frame;
// - gateway: `wa.cmd.<a>.send` request until the gateway's `send.acked` (ack=server)
//   fact — the moment it learns WhatsApp's server has the message, the same end point
//   as raw. The time until a subscriber on `wa.evt.<a>.send.acked` receives that event
//   (published to JetStream first) is reported too.
// Replay: 10,000 sends recorded while the account is held offline, then `connect`, until
// the last server ack.
import type { AuthenticationCreds } from '@whiskeysockets/baileys';
import type { NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { openAuthStore, type AuthStore } from '../src/baileys/auth-store.js';
import { Keyring } from '../src/baileys/auth-codec.js';
import { kvSessionStores } from '../src/baileys/auth-stores.js';
import type { SessionStore } from '../src/baileys/session-folder.js';
import { validateConfig } from '../src/config/load.js';
import { cmdSubject, evtSubject } from '../src/contract/index.js';
import { startGateway, type RunningGateway } from '../src/gateway/start.js';
import type { ProvisionedAccount } from '../src/simulator/index.js';
import { connectClient, type TestClient } from '../test/support/simulator-client.js';
import { connectTo, startNatsServer } from '../test/support/nats-server.js';
import type { BenchSection } from './run.js';
import { control, startSimulatorProcess } from './sim-process.js';
import { SendBreakdown } from './send-breakdown.js';
import { fmt, median, percentile } from './stats.js';
import { memoryAuth, writeCredentials } from '../test/support/credentials.js';
import { tempDir } from '../test/support/temp-dir.js';
import { until } from '../test/support/waiters.js';

/** Latency samples per side, in alternating blocks so drift on a shared box hits both alike. */
const SAMPLES = 400;
const BLOCK = 50;
const WARMUP = 30;
/** Messages in flight at once for the throughput rows. */
const BURST = 1_000;
/** Issue 5: "replay a backlog of 10,000 held sends". */
const REPLAY = 10_000;
/** Send requests in flight while the backlog is recorded. */
const RECORD_WINDOW = 200;
const CONTACT_PHONE = '15557779999';
const CONTACT = `${CONTACT_PHONE}@s.whatsapp.net`;
const START_DEADLINE_MS = 30_000;
/** How often the account's status is asked while it connects. */
const STATUS_POLL_MS = 20;
/** One awaited ack (a latency sample, a raw burst): far above any loopback round trip. */
const ACK_DEADLINE_MS = 120_000;
/**
 * A batch (burst, replay) fails only when it stops making progress: no new server ack for this
 * long. A replay of 10,000 at ~80/s takes ~125 s, so a fixed deadline for the whole batch
 * either fails slow-but-moving runs or hides stuck ones.
 */
const STALL_MS = 30_000;

/** Server acks the gateway reports, by send id, each resolving a waiter once. */
class AckWatch {
  readonly at = new Map<string, number>();
  private readonly waiters = new Map<string, () => void>();
  count = 0;
  private onCount: { n: number; resolve: () => void } | null = null;

  constructor(running: RunningGateway) {
    running.onFact((f) => {
      if (f.type !== 'send.acked' || f.ack !== 'server' || this.at.has(f.id)) return;
      this.at.set(f.id, performance.now());
      this.count++;
      this.waiters.get(f.id)?.();
      this.waiters.delete(f.id);
      if (this.onCount && this.count >= this.onCount.n) this.onCount.resolve();
    });
  }

  acked(id: string): Promise<void> {
    if (this.at.has(id)) return Promise.resolve();
    return withDeadline(new Promise<void>((resolve) => this.waiters.set(id, resolve)), `server ack of ${id}`);
  }

  /** Resolves at `n` acks; rejects when no new ack came for STALL_MS (slow is fine, stuck is not). */
  reach(n: number): Promise<void> {
    if (this.count >= n) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let seen = this.count;
      const watchdog = setInterval(() => {
        if (this.count > seen) {
          seen = this.count;
          return;
        }
        clearInterval(watchdog);
        this.onCount = null;
        reject(new Error(`${n} server acks: stuck at ${this.count} (no new ack for ${STALL_MS} ms)`));
      }, STALL_MS);
      this.onCount = {
        n,
        resolve: () => {
          clearInterval(watchdog);
          resolve();
        },
      };
    });
  }
}

function withDeadline<T>(p: Promise<T>, what: string, ms = ACK_DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

async function request(nc: NatsConnection, subject: string, body?: unknown): Promise<Record<string, unknown>> {
  const m = await nc.request(subject, body === undefined ? new Uint8Array() : JSON.stringify(body), {
    timeout: 10_000,
  });
  const r = m.json<Record<string, unknown>>();
  if (r['ok'] !== true) throw new Error(`${subject}: ${JSON.stringify(r)}`);
  return r;
}

/** A client's answer to `unavailable` ("retry with the same id"): the same request again, after a pause. */
async function requestRetrying(nc: NatsConnection, subject: string, body: unknown): Promise<Record<string, unknown>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request(nc, subject, body);
    } catch (err) {
      if (attempt >= 5 || !String(err).includes('"unavailable"')) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

export const title = 'Send path and replay';

export default async function bench(): Promise<BenchSection> {
  const sim = await startSimulatorProcess();
  const nats = await startNatsServer();
  const dir = await tempDir('wa-connd-bench-');
  const nc = await connectTo(nats.url);
  let running: RunningGateway | undefined;
  let raw: TestClient | undefined;
  let rawFile: TestClient | undefined;
  let fileStore: AuthStore | undefined;
  let rawKv: TestClient | undefined;
  let kvStore: SessionStore | undefined;
  try {
    const provision = () => control<ProvisionedAccount>(sim.http, 'POST', '/accounts', { preKeys: 20 });
    const live = await provision();
    const held = await provision();
    await writeCredentials(`${dir.path}/data`, 'bench', live);
    await writeCredentials(`${dir.path}/data`, 'replay', held);
    const config = validateConfig({
      dataDir: `${dir.path}/data`,
      log: { level: 'silent' },
      http: { port: 0 }, // a free port: a bench must not take the documented 8080
      nats: { url: nats.url, startLocal: false },
      whatsapp: { url: sim.ws, trustRootPublicKey: sim.rootPublicKey },
      accounts: [
        { id: 'bench', connect: true },
        { id: 'replay', connect: false },
      ],
    });
    // startGateway also trusts the simulator's root for the raw client in this process.
    running = await startGateway(config, pino({ level: 'silent' }));
    const acks = new AckWatch(running);
    const rawProvisioned = await provision();
    raw = connectClient(
      { wsUrl: sim.ws },
      memoryAuth(rawProvisioned.creds as AuthenticationCreds, rawProvisioned.keys),
      { keepAliveIntervalMs: 30_000 },
    );
    await raw.open();
    // The same raw client, but on the gateway's crash-safe file auth store: every send
    // ratchets the Signal session, and the store writes it temp → fsync → rename → fsync.
    const filedProvisioned = await provision();
    await writeCredentials(`${dir.path}/data`, 'rawfile', filedProvisioned);
    fileStore = await openAuthStore(`${dir.path}/data`, 'rawfile');
    rawFile = connectClient(
      { wsUrl: sim.ws },
      { creds: fileStore.state.creds, keys: fileStore.state.keys, data: new Map() },
      { keepAliveIntervalMs: 30_000 },
    );
    await rawFile.open();
    // And on the NATS KV store the gateway uses by default (auth.store: kv), same nats-server.
    const kvProvisioned = await provision();
    await writeCredentials(`${dir.path}/data`, 'rawkv', kvProvisioned);
    const kvStores = await kvSessionStores({ nc, replicas: 1, keyring: Keyring.none, dataDir: `${dir.path}/data` });
    kvStore = await kvStores.open('rawkv', { create: false });
    rawKv = connectClient(
      { wsUrl: sim.ws },
      { creds: kvStore.state.creds, keys: kvStore.state.keys, data: new Map() },
      { keepAliveIntervalMs: 30_000 },
    );
    await rawKv.open();
    await waitOpen(nc, 'bench');
    const breakdown = new SendBreakdown(`${dir.path}/data/bench/`);
    await breakdown.install(nc);

    // Event delivered to an outside subscriber, for the second gateway row.
    const eventAt = new Map<string, number>();
    const sub = nc.subscribe(evtSubject('bench', 'send.acked'), {
      callback: (_e, m) => {
        if (m.data.length === 0) return;
        const e = m.json<{ id: string; ack: string }>();
        if (e.ack === 'server' && !eventAt.has(e.id)) eventAt.set(e.id, performance.now());
      },
    });

    let n = 0;
    const rawOnce = async (client: TestClient = raw!): Promise<number> => {
      const t0 = performance.now();
      const sent = await client.sock.sendMessage(CONTACT, { text: `raw ${n++}` });
      await client.until('ack', () => client.acks.find((a) => a.id === sent?.key.id), ACK_DEADLINE_MS);
      return performance.now() - t0;
    };
    const gwOnce = async (): Promise<{ fact: number; event: number; reply: number }> => {
      const id = `lat-${n++}`;
      const t0 = performance.now();
      await request(nc, cmdSubject('bench', 'send'), { id, to: `+${CONTACT_PHONE}`, text: `gateway ${n}` });
      const reply = performance.now() - t0;
      await acks.acked(id);
      const fact = acks.at.get(id)! - t0;
      await withDeadline(waitMap(eventAt, id), `send.acked event of ${id}`);
      return { fact, event: eventAt.get(id)! - t0, reply };
    };

    for (let i = 0; i < WARMUP; i++) {
      await rawOnce();
      await rawOnce(rawFile);
      await rawOnce(rawKv);
      await gwOnce();
    }
    const rawMs: number[] = [];
    const rawFileMs: number[] = [];
    const rawKvMs: number[] = [];
    const gwMs: number[] = [];
    const gwEventMs: number[] = [];
    const gwReplyMs: number[] = [];
    let gwWallMs = 0;
    for (let done = 0; done < SAMPLES; done += BLOCK) {
      for (let i = 0; i < BLOCK; i++) rawMs.push(await rawOnce());
      for (let i = 0; i < BLOCK; i++) rawFileMs.push(await rawOnce(rawFile));
      for (let i = 0; i < BLOCK; i++) rawKvMs.push(await rawOnce(rawKv));
      // The breakdown records only the gateway's blocks, up to the send.acked fact of each.
      const b0 = performance.now();
      breakdown.start();
      for (let i = 0; i < BLOCK; i++) {
        const s = await gwOnce();
        gwMs.push(s.fact);
        gwEventMs.push(s.event);
        gwReplyMs.push(s.reply);
      }
      breakdown.stop();
      gwWallMs += performance.now() - b0;
    }
    breakdown.uninstall();
    process.stderr.write(
      `send-path medians (ms): raw memory ${fmt(median(rawMs))}, raw file ${fmt(median(rawFileMs))}, raw kv ${fmt(median(rawKvMs))}, gateway ${fmt(median(gwMs))}\n`,
    );

    // Throughput: BURST messages issued at once, until the last server ack.
    const rawBurst = async (client: TestClient) => {
      const before = client.acks.length;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: BURST }, (_, i) => client.sock.sendMessage(CONTACT, { text: `raw burst ${i}` })),
      );
      await client.until(
        'burst acks',
        () => (client.acks.length - before >= BURST ? true : undefined),
        ACK_DEADLINE_MS,
      );
      return performance.now() - t0;
    };
    // One after another, as the gateway's per-connection send chain does (wire order).
    const rawChained = async (client: TestClient) => {
      const before = client.acks.length;
      const t0 = performance.now();
      for (let i = 0; i < BURST; i++) await client.sock.sendMessage(CONTACT, { text: `raw chained ${i}` });
      await client.until(
        'chained acks',
        () => (client.acks.length - before >= BURST ? true : undefined),
        ACK_DEADLINE_MS,
      );
      return performance.now() - t0;
    };
    const gwBurst = async () => {
      const target = acks.count + BURST;
      const t0 = performance.now();
      const base = n;
      n += BURST;
      await Promise.all(
        Array.from({ length: BURST }, (_, i) =>
          requestRetrying(nc, cmdSubject('bench', 'send'), {
            id: `burst-${base + i}`,
            to: `+${CONTACT_PHONE}`,
            text: `gateway burst ${i}`,
          }),
        ),
      );
      await acks.reach(target);
      return performance.now() - t0;
    };
    const rawBurstMs = await rawBurst(raw);
    const rawFileBurstMs = await rawBurst(rawFile);
    const rawKvBurstMs = await rawBurst(rawKv);
    const rawChainedMs = await rawChained(raw);
    const rawFileChainedMs = await rawChained(rawFile);
    const rawKvChainedMs = await rawChained(rawKv);
    const gwBurstMs = await gwBurst();
    sub.unsubscribe();

    // Replay: record REPLAY sends while `replay` is held offline, then connect.
    const replayAcks = new AckWatch(running);
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
    let openAt = 0;
    const unsubscribeOpen = running.onFact((f) => {
      if (f.account === 'replay' && f.type === 'transition' && f.to === 'open' && !openAt) openAt = performance.now();
    });
    const c0 = performance.now();
    await request(nc, cmdSubject('replay', 'connect'));
    await replayAcks.reach(REPLAY);
    const replayMs = performance.now() - c0;
    unsubscribeOpen();
    const ledger = await control<{ entries: { count: number }[] }>(
      sim.http,
      'GET',
      `/ledger?account=${held.account.phone}`,
    );
    const dupes = ledger.entries.filter((e) => e.count > 1).length;

    const ratio = median(gwMs) / median(rawMs);
    const row = (name: string, s: number[]) =>
      `| ${name} | ${s.length} | ${fmt(median(s))} | ${fmt(percentile(s, 99))} | ${fmt(s.reduce((a, b) => a + b, 0) / s.length)} |`;
    const rate = (count: number, ms: number) => fmt((count / ms) * 1000, 0);
    const markdown = [
      'The gateway **in process** (`startGateway` with a config from `validateConfig`, logger silent), its own nats-server 2.9 (file store, temp dir),',
      'the simulator CLI in its own process, and a raw Baileys 7.0.0-rc14 socket in the bench process, all on loopback; both sides send a text to the same contact.',
      '*raw*: `sock.sendMessage(contact, {text})` until the `<ack class=message>` frame reaches the client (`CB:ack,class:message`).',
      '*gateway*: `wa.cmd.bench.send` request (reply `queued` after `send.queued` is acked by JetStream, then handed to the account) until the gateway',
      "reports the server's ack (`send.acked`, `ack: server`, as a fact inside the process); *→ event on NATS* is the same until an outside",
      'subscriber on `wa.evt.bench.send.acked` receives that event (one more JetStream publish and delivery).',
      `${SAMPLES} sequential samples per side in alternating blocks of ${BLOCK}, after ${WARMUP} warm-up sends each.`,
      '',
      '| send → server ack (ms) | samples | median | p99 | mean |',
      '|---|---|---|---|---|',
      row('raw Baileys `sendMessage`, memory auth', rawMs),
      row('raw Baileys `sendMessage`, gateway file auth store (`auth.store: file`)', rawFileMs),
      row('raw Baileys `sendMessage`, gateway NATS KV auth store (`auth.store: kv`)', rawKvMs),
      row('gateway `wa.cmd.<a>.send` (NATS KV auth store, the default)', gwMs),
      row('gateway, → event on NATS', gwEventMs),
      '',
      `**Ratio gateway / raw (medians): ${fmt(ratio, 2)}×** against raw Baileys on memory auth (target ≤ 1.3×); to the event on NATS: ${fmt(median(gwEventMs) / median(rawMs), 2)}×.`,
      `Against raw Baileys on the same KV auth store the gateway uses: ${fmt(median(gwMs) / median(rawKvMs), 2)}× (the NATS layer and the machine alone).`,
      `Raw Baileys on the KV store / on memory auth: ${fmt(median(rawKvMs) / median(rawMs), 2)}×; on the file store / memory: ${fmt(median(rawFileMs) / median(rawMs), 2)}×.`,
      '',
      `Throughput, ${BURST} messages until the last server ack (msg/s):`,
      '',
      '| | memory auth | file auth store | NATS KV auth store |',
      '|---|---|---|---|',
      `| raw Baileys, ${BURST} \`sendMessage\` issued at once | ${rate(BURST, rawBurstMs)} | ${rate(BURST, rawFileBurstMs)} | ${rate(BURST, rawKvBurstMs)} |`,
      `| raw Baileys, one \`sendMessage\` after another (the gateway's send chain) | ${rate(BURST, rawChainedMs)} | ${rate(BURST, rawFileChainedMs)} | ${rate(BURST, rawKvChainedMs)} |`,
      `| gateway, ${BURST} \`wa.cmd.<a>.send\` requests issued at once | | | ${rate(BURST, gwBurstMs)} |`,
      '',
      `**Where the time goes**, measured over the same ${gwMs.length} gateway sends (\`bench/send-breakdown.ts\` wraps JetStream's \`publish\`, the file`,
      "IO of `node:fs/promises` and libsignal's `SessionCipher.encrypt` in this process while the gateway blocks run; a row is the wall time in which",
      'at least one such call was in progress, so rows of different kinds overlap and need not add up to 100 %):',
      '',
      breakdown.render(gwMs.length, gwWallMs / gwMs.length, gwReplyMs.reduce((a, b) => a + b, 0) / gwReplyMs.length),
      '',
      `Raw Baileys on the fsynced file store costs ${fmt(median(rawFileMs) - median(rawMs))} ms more per send (median) than on memory auth, on the NATS KV store ${fmt(median(rawKvMs) - median(rawMs))} ms:`,
      'every send ratchets the Signal session, and Baileys stores it through the auth store before `sendMessage` resolves (file store: temp file,',
      'fsync, rename, fsync of the directory, several files per send; KV store: one JetStream publish per key, in parallel, each acked by the',
      "server; reads come from the store's cache). The gateway adds its event publishes (the `send.queued` publish is acked before the reply;",
      '`send.sent` and `send.acked` follow). The JetStream row above counts both, auth writes and events.',
      'Throughput is bounded the same way: the gateway sends one message after another per connection (wire order), each waiting for its session write.',
      '',
      `**Replay**: ${REPLAY} sends recorded over NATS while the account was held offline (${rate(REPLAY, recordMs)} commands/s to record, ${RECORD_WINDOW} requests in flight),`,
      `then \`wa.cmd.replay.connect\`: ${fmt(replayMs / 1000, 2)} s from \`connect\` to the last server ack = **${rate(REPLAY, replayMs)} messages/s**`,
      `(socket open after ${fmt(openAt - c0, 0)} ms). Simulator ledger afterwards: ${ledger.entries.length} messages, ${dupes} with a repeated id.`,
    ].join('\n');
    return { title, markdown };
  } finally {
    raw?.end();
    rawFile?.end();
    rawKv?.end();
    await fileStore?.close().catch(() => undefined);
    await kvStore?.close().catch(() => undefined);
    await running?.close().catch(() => undefined);
    await nc.close().catch(() => undefined);
    await nats.stop();
    sim.stop();
    await dir.remove();
  }
}

async function waitOpen(nc: NatsConnection, account: string): Promise<void> {
  let last: Record<string, unknown> = {};
  await until(
    () => `${account} open (last status ${JSON.stringify(last)})`,
    async () => {
      last = await request(nc, cmdSubject(account, 'status'));
      return last['state'] === 'open' || last['state'] === 'idle';
    },
    START_DEADLINE_MS,
    STATUS_POLL_MS,
  );
}

function waitMap(map: Map<string, number>, id: string): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (map.has(id) ? resolve() : setTimeout(check, 1));
    check();
  });
}
