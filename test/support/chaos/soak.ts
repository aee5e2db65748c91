/**
 * The 24-hour soak in accelerated time (docs/testing.md, "Soak"): the simulator's policy
 * timers scaled by 1/600 (the field report's 16-minute timer runs in 1.6 s, a day in
 * 144 s), one gateway child with three accounts under the two server policies of the
 * field report, and plain Baileys beside it under the same policies, all in one run.
 * Sends arrive at random (seeded) on every account all day. Per scaled hour the gateway's
 * RSS, event-loop delay and CPU are read from its /metrics.
 */
import { createServer } from 'node:net';
import { WA_CERT_DETAILS } from '@whiskeysockets/baileys';
import { evtFilter } from '../../../src/contract/index.js';
import { waMessageIdFor } from '../../../src/runtime/message-id.js';
import { memoryAuth, writeCredentials } from '../credentials.js';
import { spawnGateway, type GatewayChild } from '../gateway-child.js';
import { dumpStream } from '../nats-client.js';
import { connectTo, startNatsServer } from '../nats-server.js';
import { parsePrometheusText } from '../prom-text.js';
import { prng } from '../random.js';
import { connectClient, type TestClient } from '../simulator-client.js';
import { tempDir } from '../temp-dir.js';
import { until } from '../waiters.js';
import { deliveryVerdict, sendOutcomes, type ChaosEvent, type LedgerRow, type PlannedSend } from './checks.js';
import { newClientStats, sendOne } from './clients.js';
import { provisionAt, startSimProcess } from './processes.js';
import { settleOutboxes } from './settle.js';

/** Wall time per real time by default: 16 min → 1.6 s, 24 h → 144 s. */
export const SOAK_SCALE = 1 / 600;
/** The field report's server timer, unscaled (the simulator scales it). */
const SERVER_TIMER_MS = 16 * 60_000;
/**
 * Gateway timings. Not all of them can be 1/600 of the defaults: a 4 s ping deadline
 * would be 7 ms, under the loaded machine's scheduling noise. The scale keeps what the
 * policies depend on — the keepalive well inside the server timer (a probe every
 * ~0.3 s and a presence every 0.5 s, the 5-minute default scaled, against 1.6 s),
 * recovery well inside a period — at the runtime tests' fast timings.
 */
export const SOAK_TIMINGS = {
  idleAfterMs: 250,
  probeJitterMs: 30,
  pingTimeoutMs: 500,
  connectTimeoutMs: 10_000,
  drainTimeoutMs: 500,
  ackTimeoutMs: 2_000,
  backoffBaseMs: 50,
  backoffCapMs: 1_000,
  stableAfterMs: 500,
  stallThresholdMs: 300,
};
/** presenceEveryMs: the 5-minute default, scaled. */
const presenceEveryMs = (scale: number) => Math.round(5 * 60_000 * scale);
/** Baileys' own WebSocket keepalive default (30 s, not scaled: it does not reset the server timer anyway). */
const BAILEYS_KEEPALIVE_MS = 30_000;
/** Server idle timer: application traffic resets it, pings do not (field report). */
const IDLE_POLICY = {
  idleTimeout: {
    afterMs: SERVER_TIMER_MS,
    resetBy: ['message', 'receipt', 'presence', 'iq', 'notification'],
    code: 408,
  },
};
/**
 * Server recycle every 16 min whatever the traffic. Acks take 40 ms, so a drop can cut
 * sends in flight: those are what draining ahead of the drop saves from being written
 * twice. (Not scaled, and kept under the drain's lead — 5% of the period, 80 ms here,
 * 48 s at real scale — as any real round trip is under 48 s.)
 */
const RECYCLE_POLICY = { recycle: { everyMs: SERVER_TIMER_MS, code: 408 }, ackLatencyMs: 40 };

type Case = {
  account: string;
  policy: Record<string, unknown>;
  /** Mean time between sends (exponential): sparse on idle accounts so the idle timer can fire. */
  meanGapMs: number;
  gateway?: Record<string, unknown>;
};
/** Send gaps in real time: 10 min on the idle-timer accounts (the timer can fire between sends), 2 min on the recycle ones. */
const IDLE_GAP_MS = 10 * 60_000;
const BUSY_GAP_MS = 2 * 60_000;
const casesAt = (scale: number): Case[] => [
  {
    account: 'ka-idle',
    policy: IDLE_POLICY,
    meanGapMs: IDLE_GAP_MS * scale,
    gateway: { keepalive: 'both', presenceEveryMs: presenceEveryMs(scale) },
  },
  {
    account: 'rc-drain',
    policy: RECYCLE_POLICY,
    meanGapMs: BUSY_GAP_MS * scale,
    gateway: { keepalive: 'both', presenceEveryMs: presenceEveryMs(scale), recycleAheadOfDrops: true },
  },
  {
    account: 'rc-plain',
    policy: RECYCLE_POLICY,
    meanGapMs: BUSY_GAP_MS * scale,
    gateway: { keepalive: 'both', presenceEveryMs: presenceEveryMs(scale), recycleAheadOfDrops: false },
  },
  { account: 'baileys-idle', policy: IDLE_POLICY, meanGapMs: 1_000 },
  { account: 'baileys-recycle', policy: RECYCLE_POLICY, meanGapMs: 200 },
];

export type AccountReport = {
  account: string;
  kind: 'gateway' | 'baileys';
  sends: number;
  accepted: number;
  delivered: number;
  lost: number;
  /** Accepted, with no terminal event when the run ended (the outbox did not settle). */
  pending: number;
  /** Requests never answered ok (the client gave up after 120 s of retries). */
  unanswered: number;
  failed: number;
  /** Server-ended sessions while online (a close with a status code; not one ending a planned drain). */
  drops: number;
  /** Sessions the gateway recycled ahead of a predicted drop. */
  plannedRecycles: number;
  /** Server drops before the first `drop.pattern` (undefined: none reported). */
  dropsBeforePattern: number | undefined;
  patternPeriodMs: number | undefined;
  /** Sends accepted while the link was not usable (they went out after a reconnect). */
  held: number;
  /** Sends written to WhatsApp more than once (in flight when the link dropped): replays. */
  resent: number;
};
/** Per scaled hour: RSS and V8 heap in use at its end (no GC forced), event-loop delay p99 over it, CPU spent in it. */
export type HourSample = { hour: number; rssMiB: number; heapMiB: number; eldP99Ms: number; cpuMs: number };
export type SoakResult = { accounts: AccountReport[]; hours: HourSample[]; wallMs: number };

/**
 * `scale`: wall time per real time (default SOAK_SCALE). The gateway timings stay as they
 * are; only the server policies (and so the presence cadence and the send gaps) follow it.
 */
export type SoakOptions = { seed: number; hours: number; scale?: number; log?: (line: string) => void };

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? (() => undefined);
  const rand = prng(o.seed);
  const dir = await tempDir('wa-connd-soak-');
  const nats = await startNatsServer();
  const nc = await connectTo(nats.url);
  const scale = o.scale ?? SOAK_SCALE;
  const HOUR_MS = Math.round(3_600_000 * scale);
  const CASES = casesAt(scale);
  const sim = await startSimProcess(`soak-${o.seed}`, scale);
  WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(sim.rootPublicKey, 'base64');
  const phones = new Map<string, string>();
  const baileys = new Map<string, Baseline>();
  let gateway: GatewayChild | undefined;
  let stopping = false;
  try {
    const port = await freePort();
    for (const c of CASES) {
      const p = await provisionAt(sim.http);
      phones.set(c.account, p.phone);
      await fetch(`${sim.http}/faults`, { method: 'PUT', body: JSON.stringify({ account: p.phone, ...c.policy }) });
      if (c.gateway) await writeCredentials(`${dir.path}/data`, c.account, p);
      else baileys.set(c.account, startBaseline(sim.ws, memoryAuth(p.creds, p.keys as Record<string, never>), p.phone));
    }
    gateway = await spawnGateway(dir.path, {
      natsUrl: nats.url,
      dataDir: `${dir.path}/data`,
      waUrl: sim.ws,
      trustRoot: sim.rootPublicKey,
      accounts: CASES.filter((c) => c.gateway).map((c) => ({ id: c.account, connect: true, ...c.gateway })),
      settings: { log: { level: 'warn' }, defaults: { timings: SOAK_TIMINGS } },
      env: { WA_CONND_HTTP_PORT: String(port) },
    });
    const scrape = async () => parsePrometheusText(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    const child = gateway;
    await until(
      () => `the gateway serving /metrics:\n${child.output()}`,
      () =>
        scrape().then(
          () => true,
          () => false,
        ),
      30_000,
      100,
    );
    const startedAt = Date.now();
    const endAt = startedAt + o.hours * HOUR_MS;
    log(`soak: ${o.hours} scaled hours (${(o.hours * HOUR_MS) / 1000} s), seed ${o.seed}`);
    const replies = new Map<string, { seq: number } | undefined>();
    const env = {
      nc,
      startedAt,
      sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
      rand,
      stats: newClientStats(),
    };
    const sendLoops = CASES.map(async (c) => {
      for (let n = 0; ; n++) {
        const gap = -Math.log(1 - rand()) * c.meanGapMs;
        await new Promise((r) => setTimeout(r, gap));
        if (stopping || Date.now() >= endAt) return;
        const text = `SOAK${o.seed}x${n}y${c.account}`;
        const base = baileys.get(c.account);
        if (base) {
          void base.send(`4916000${String(n % 5).padStart(5, '0')}@s.whatsapp.net`, text);
          continue;
        }
        const id = `soak-${n}`;
        const to = `4916000${String(n % 5).padStart(5, '0')}`;
        replies.set(`${c.account}/${id}`, undefined);
        void sendOne(env, {
          n,
          account: c.account,
          id,
          to: `+${to}`,
          chat: `${to}@s.whatsapp.net`,
          kind: 'text',
          text,
          atMs: 0,
          deadlineAfterMs: undefined,
        }).then(() => {
          const ok = env.stats.accepted.get(`${c.account}/${id}`);
          if (ok) replies.set(`${c.account}/${id}`, { seq: ok.seq });
        });
      }
    });
    const hours: HourSample[] = [];
    let lastCpu = 0;
    (await scrape()).get('process_cpu_seconds_total')?.samples.forEach((s) => (lastCpu = s.value));
    for (let hour = 1; hour <= o.hours; hour++) {
      await new Promise((r) => setTimeout(r, startedAt + hour * HOUR_MS - Date.now()));
      const m = await scrape();
      const value = (name: string, labels: Record<string, string> = {}) =>
        m.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value ?? NaN;
      const cpu = value('process_cpu_seconds_total');
      hours.push({
        hour,
        rssMiB: value('process_resident_memory_bytes') / 2 ** 20,
        heapMiB: value('nodejs_heap_size_used_bytes') / 2 ** 20,
        eldP99Ms: value('wa_event_loop_delay_seconds', { stat: 'p99' }) * 1000,
        cpuMs: (cpu - lastCpu) * 1000,
      });
      lastCpu = cpu;
      if (hour % 6 === 0) log(`soak: hour ${hour}: ${JSON.stringify(hours.at(-1))}`);
    }
    await Promise.all(sendLoops);
    // Settle: every gateway outbox empty (while they shrink); give the baseline's last sends their acks.
    const settled = await settleOutboxes(
      nc,
      CASES.filter((x) => x.gateway).map((x) => x.account),
      log,
    );
    if (settled.left > 0) log(`soak: ${settled.left} sends still in outboxes`);
    await Promise.all([...baileys.values()].map((b) => b.settle()));
    await gateway.stop();
    const ledger: LedgerRow[] = [];
    for (const [account, phone] of phones) {
      const r = (await (await fetch(`${sim.http}/ledger?account=${phone}`)).json()) as { entries: LedgerRow[] };
      for (const e of r.entries) ledger.push({ ...e, account });
    }
    const events = (await dumpStream(nc, evtFilter())).events.map(
      (e) => e.event as ChaosEvent & Record<string, unknown>,
    );
    const accounts = CASES.map((c) => {
      const base = baileys.get(c.account);
      return base ? base.report(c.account, ledger) : gatewayReport(c.account, events, ledger, replies, o.seed);
    });
    return { accounts, hours, wallMs: Date.now() - startedAt };
  } finally {
    stopping = true;
    for (const b of baileys.values()) b.stop();
    await gateway?.kill('SIGKILL');
    await nc.close().catch(() => undefined);
    await sim.stop();
    await nats.stop();
    await dir.remove();
  }
}

function gatewayReport(
  account: string,
  all: (ChaosEvent & Record<string, unknown>)[],
  ledger: LedgerRow[],
  replies: Map<string, { seq: number } | undefined>,
  seed: number,
): AccountReport {
  const events = all.filter((e) => e.account === account);
  const outcomes = sendOutcomes(events);
  const planned = new Map<string, PlannedSend>();
  for (const e of events)
    if (e.type === 'send.queued' && e.id)
      planned.set(`${account}/${e.id}`, {
        account,
        id: e.id,
        waId: waMessageIdFor(account, e.id),
        chat: `${String(e['to']).split('@')[0]}@s.whatsapp.net`,
        text: `SOAK${seed}x${e.id.slice('soak-'.length)}y${account}`,
      });
  const v = deliveryVerdict(
    outcomes,
    planned,
    ledger.filter((r) => r.account === account),
  );
  const transitions = events.filter((e) => e.type === 'transition');
  // A server close while online; one that ends a planned drain early is the drain finishing.
  const drops = transitions.filter((e) => typeof e['statusCode'] === 'number' && ONLINE.has(String(e['from'])));
  const pattern = events.find((e) => e.type === 'drop.pattern');
  const sentTimes = new Map<string, number>();
  for (const e of events) if (e.type === 'send.sent' && e.id) sentTimes.set(e.id, (sentTimes.get(e.id) ?? 0) + 1);
  // Held: accepted while the link was not usable (so it went out on a later connection).
  let state = 'connecting';
  let held = 0;
  for (const e of [...events].sort((a, b) => a.seq - b.seq)) {
    if (e.type === 'transition') state = String(e['to']);
    if (e.type === 'send.queued' && !ONLINE.has(state)) held++;
  }
  const mine = [...replies].filter(([k]) => k.startsWith(`${account}/`));
  return {
    account,
    kind: 'gateway',
    sends: mine.length,
    accepted: outcomes.size,
    delivered: v.delivered,
    // Acked (or failed/expired) yet not at WhatsApp; a send with no terminal event is `pending`.
    lost: v.lost.filter((k) => (outcomes.get(k)?.terminals.length ?? 0) > 0).length,
    pending: [...outcomes.values()].filter((x) => x.terminals.length === 0).length,
    unanswered: mine.filter(([, r]) => r === undefined).length,
    failed: [...outcomes.values()].filter((x) => x.terminals[0] === 'failed').length,
    drops: drops.length,
    plannedRecycles: transitions.filter((e) => e['reason'] === 'dropPredicted').length,
    dropsBeforePattern: pattern ? drops.filter((d) => d.seq < pattern.seq).length : undefined,
    patternPeriodMs: pattern ? Number(pattern['periodMs']) : undefined,
    held,
    resent: [...sentTimes.values()].filter((n) => n > 1).length,
  };
}

/** States in which a send goes straight out (docs/machine.md). */
const ONLINE = new Set(['open', 'idle', 'pinging']);

type Baseline = {
  send(jid: string, text: string): Promise<void>;
  settle(): Promise<void>;
  report(account: string, ledger: LedgerRow[]): AccountReport;
  stop(): void;
};

/**
 * Plain Baileys as a typical bot runs it: reconnect at once on any close but a logout,
 * send when asked, and a send that throws is a failed send.
 */
function startBaseline(wsUrl: string, auth: ReturnType<typeof memoryAuth>, _phone: string): Baseline {
  let stopped = false;
  let client: TestClient;
  let drops = 0;
  let sends = 0;
  let failed = 0;
  const texts = new Set<string>();
  const inflight = new Set<Promise<void>>();
  const connect = () => {
    client = connectClient({ wsUrl }, auth, { keepAliveIntervalMs: BAILEYS_KEEPALIVE_MS });
    const mine = client;
    mine.sock.ev.on('connection.update', (u) => {
      if (u.connection !== 'close' || mine !== client) return;
      drops++;
      const code = (u.lastDisconnect?.error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode;
      if (!stopped && code !== 401) connect();
    });
  };
  connect();
  return {
    send: (jid, text) => {
      sends++;
      const p = client.sock
        .sendMessage(jid, { text })
        .then(
          () => void texts.add(text),
          () => void failed++,
        )
        .finally(() => inflight.delete(p));
      inflight.add(p);
      return p;
    },
    settle: async () => {
      await Promise.all(inflight);
    },
    report: (account, ledger) => {
      const atWa = new Set(ledger.filter((r) => r.account === account).map((r) => r.text));
      return {
        account,
        kind: 'baileys',
        sends,
        accepted: texts.size,
        delivered: [...texts].filter((t) => atWa.has(t)).length,
        lost: [...texts].filter((t) => !atWa.has(t)).length,
        pending: 0,
        unanswered: 0,
        failed,
        drops,
        plannedRecycles: 0,
        dropsBeforePattern: undefined,
        patternPeriodMs: undefined,
        held: 0,
        resent: 0,
      };
    },
    stop: () => {
      stopped = true;
      client.end();
    },
  };
}
