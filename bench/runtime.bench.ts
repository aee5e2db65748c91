// Account-runtime benchmarks (issue 4): recovery time from a transient 408, the dead window for
// sends through the gateway beside plain Baileys with a naive reconnect loop, and RSS per
// connected account. The simulator runs as its own process; the gateway (real Baileys) runs in
// this one, except for memory, which gets a fresh process of its own (bench/runtime-memory.ts).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TIMINGS, isOnline } from '../machines/index.js';
import type { AccountSettings } from '../src/runtime/account-runtime.js';
import { waMessageIdFor } from '../src/runtime/message-id.js';
import type { BenchSection } from './run.js';
import { fmt, median, percentile } from './stats.js';
import { muteConsole, startTimedGateway, type TimedGateway } from './runtime-gateway.js';
import { NaiveClient } from './runtime-naive.js';
import { drop408, ledger, provision, startSimulatorProcess, type SimulatorProcess } from './sim-process.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Forced drops for the recovery distribution (the issue asks for ≥ 200). */
const RECOVERY_DROPS = 200;
/** Accounts the drops rotate over, one drop at a time, so each has been open a while when hit. */
const RECOVERY_ACCOUNTS = 4;
/**
 * stableAfterMs for the recovery run. The default (30 s) resets the backoff ladder only after
 * 30 s open, so 200 drops at the default would need 100 min; 0.5 s open gives every drop the
 * same "first failure after a stable link" ceiling a field 408 after minutes open gets.
 */
const STABLE_MS = 500;
/** A dropped account is hit again only after this long open (> STABLE_MS). */
const OPEN_BEFORE_DROP_MS = 600;
/** Back-to-back drops (each right after the open) per account with the default stableAfterMs. */
const LADDER_DROPS = 6;
const LADDER_ACCOUNTS = 3;

/** A client sends this often through each dead-window variant. */
const SEND_EVERY_MS = 20;
/** Drops per dead-window variant; the 3 s naive loop gets fewer, its window is the fixed delay. */
const DEAD_WINDOW_DROPS = 20;
const DEAD_WINDOW_DROPS_SLOW = 6;
/** Steady sending between an open and the next drop. */
const STEADY_MS = 700;
/** Naive loop delays: Baileys' Example/example.ts reconnects at once; tutorials often wait 3 s. */
const NAIVE_DELAYS_MS = [0, 3_000] as const;
/** After the last drop: time for every retained send to be acked before the ledger is read. */
const SETTLE_DEADLINE_MS = 20_000;
const PEER = '4915100000777@s.whatsapp.net';

/** Accounts in one gateway process for the memory measurement. */
const MEMORY_STEPS = [50, 200, 500] as const;
/** 500 logins on a shared 2-core box take minutes (see the AsyncLocalStorage note in the section). */
const MEMORY_DEADLINE_MS = 420_000;

/**
 * The gateway's settings for parts 1 and 2: the `ping` keepalive and default timings but
 * `stableAfterMs`. Recycling ahead of predicted drops (drop-pattern.ts, being added to the
 * runtime as this bench was written) is off: the bench forces drops on a schedule, a rhythm the
 * runtime would learn and dodge, while the drops measured here stand for random transient ones.
 * The cast keeps this file compiling whether or not that setting exists yet.
 */
const GATEWAY_SETTINGS = {
  keepalive: 'ping',
  timings: { stableAfterMs: STABLE_MS },
  recycleAheadOfDrops: false,
} as AccountSettings;
/** Random extra wait before a dead-window drop (uniform in [0, this)), so drops do not fall on a beat. */
const DROP_JITTER_MS = 300;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const ms = (n: number) => fmt(n, 0);
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

// ── 1. recovery from a transient 408 ───────────────────────────────────────
interface Recovery {
  recovery: number[];
  /** 408 fact → `connecting` (the backoff actually slept). */
  slept: number[];
  /** The backoff the machine drew for that drop. */
  drawn: number[];
  /** `connecting` → `open`: a new socket's handshake and login. */
  login: number[];
  /** inject request sent → 408 fact (HTTP to the simulator, stream error, Baileys' close). */
  detect: number[];
  attempts: number[];
}

async function dropAndRecover(
  g: TimedGateway,
  sim: SimulatorProcess,
  account: string,
  phone: string,
  into: Recovery,
): Promise<number> {
  const from = g.facts.all.length;
  const t0 = performance.now();
  await drop408(sim.http, phone);
  const closed = await g.facts.nextTransition(account, from, 'close 408', (f) => f.statusCode === 408);
  const ctx = g.gateway.runtime(account).snapshot().context;
  const connecting = await g.facts.nextTransition(
    account,
    closed.index + 1,
    '→ connecting',
    (f) => f.to === 'connecting',
  );
  const opened = await g.facts.nextTransition(account, connecting.index + 1, '→ open', (f) => f.to === 'open');
  into.recovery.push(opened.t - closed.t);
  into.slept.push(connecting.t - closed.t);
  into.drawn.push(ctx.backoffMs);
  into.login.push(opened.t - connecting.t);
  into.detect.push(closed.t - t0);
  into.attempts.push(ctx.attempt);
  return opened.t;
}

const emptyRecovery = (): Recovery => ({ recovery: [], slept: [], drawn: [], login: [], detect: [], attempts: [] });

async function waitOnline(g: TimedGateway, account: string): Promise<number> {
  const opened = await g.facts.nextTransition(account, 0, '→ open', (f) => f.to === 'open');
  await g.facts.until(`${account} online`, () => (isOnline(g.gateway.state(account)) ? true : undefined));
  return opened.t;
}

async function measureRecovery(g: TimedGateway, sim: SimulatorProcess): Promise<Recovery> {
  const accounts = [];
  for (let i = 0; i < RECOVERY_ACCOUNTS; i++) {
    const p = await provision(sim.http);
    const account = `rec-${i}`;
    await g.add(account, p);
    accounts.push({ account, phone: p.phone, openedAt: 0 });
  }
  for (const a of accounts) a.openedAt = await waitOnline(g, a.account);
  const out = emptyRecovery();
  for (let i = 0; i < RECOVERY_DROPS; i++) {
    const a = accounts[i % accounts.length]!;
    const wait = a.openedAt + OPEN_BEFORE_DROP_MS - performance.now();
    if (wait > 0) await sleep(wait);
    await g.facts.until(`${a.account} online`, () => (isOnline(g.gateway.state(a.account)) ? true : undefined));
    a.openedAt = await dropAndRecover(g, sim, a.account, a.phone, out);
  }
  return out;
}

/** With the default stableAfterMs, drops that each come right after the open climb the ladder. */
async function measureLadder(g: TimedGateway, sim: SimulatorProcess): Promise<Recovery[]> {
  const byDrop = Array.from({ length: LADDER_DROPS }, emptyRecovery);
  await Promise.all(
    Array.from({ length: LADDER_ACCOUNTS }, async (_, i) => {
      const p = await provision(sim.http);
      const account = `ladder-${i}`;
      await g.add(account, p, { timings: { stableAfterMs: DEFAULT_TIMINGS.stableAfterMs } });
      await waitOnline(g, account);
      for (let d = 0; d < LADDER_DROPS; d++) await dropAndRecover(g, sim, account, p.phone, byDrop[d]!);
    }),
  );
  return byDrop;
}

// ── 2. dead window for sends ───────────────────────────────────────────────
interface DeadWindow {
  variant: string;
  windows: number[];
  /** drop requested → reconnected socket open. */
  reopen: number[];
  /** open → first server ack on the new socket. */
  firstAck: number[];
  attempted: number;
  delivered: number;
  lost: number;
  /** Ids the server received more than once, and the extra copies. */
  duplicatedIds: number;
  extraCopies: number;
  notes: string;
  /** Sends the gateway reported as failed (`send.failed`). */
  failed?: number;
}

function countLedger(
  entries: { id: string; count: number }[],
  ids: string[],
): { delivered: number; duplicatedIds: number; extraCopies: number } {
  const byId = new Map(entries.map((e) => [e.id, e.count]));
  let delivered = 0;
  let duplicatedIds = 0;
  let extraCopies = 0;
  for (const id of ids) {
    const count = byId.get(id);
    if (count === undefined) continue;
    delivered++;
    if (count > 1) {
      duplicatedIds++;
      extraCopies += count - 1;
    }
  }
  return { delivered, duplicatedIds, extraCopies };
}

async function deadWindowGateway(g: TimedGateway, sim: SimulatorProcess): Promise<DeadWindow> {
  const account = 'dw-gateway';
  const p = await provision(sim.http);
  await g.add(account, p);
  let openedAt = await waitOnline(g, account);
  const ids: string[] = [];
  let held = 0;
  const tick = setInterval(() => {
    const id = `dw-${ids.length}`;
    ids.push(id);
    if (g.gateway.submit(account, { id, to: PEER, text: `dead window ${id}` }) === 'held') held++;
  }, SEND_EVERY_MS);
  const windows: number[] = [];
  const reopen: number[] = [];
  const firstAck: number[] = [];
  try {
    for (let d = 0; d < DEAD_WINDOW_DROPS; d++) {
      const wait = openedAt + STEADY_MS + Math.random() * DROP_JITTER_MS - performance.now();
      if (wait > 0) await sleep(wait);
      const from = g.facts.all.length;
      const t0 = performance.now();
      await drop408(sim.http, p.phone);
      const closed = await g.facts.nextTransition(account, from, 'close 408', (f) => f.statusCode === 408);
      const opened = await g.facts.nextTransition(account, closed.index + 1, '→ open', (f) => f.to === 'open');
      const acked = await g.facts.until('first server ack after reopen', () =>
        g.facts.find(account, opened.index + 1, 'send.acked', (f) => f.ack === 'server'),
      );
      windows.push(acked.t - t0);
      reopen.push(opened.t - t0);
      firstAck.push(acked.t - opened.t);
      openedAt = opened.t;
    }
  } finally {
    clearInterval(tick);
  }
  const settled = new Set<string>();
  await g.facts
    .until(
      'every send acked or failed',
      () => {
        for (const e of g.facts.of('send.acked', account)) if (e.fact.ack === 'server') settled.add(e.fact.id);
        for (const e of g.facts.of('send.failed', account)) settled.add(e.fact.id);
        return settled.size >= ids.length ? true : undefined;
      },
      SETTLE_DEADLINE_MS,
    )
    .catch(() => undefined); // what never got acked shows up as lost below
  const counts = countLedger(
    await ledger(sim.http, p.phone),
    ids.map((id) => waMessageIdFor(account, id)),
  );
  const failed = g.facts.of('send.failed', account);
  return {
    variant: 'gateway (`submit`; held while down, replayed on open)',
    windows,
    reopen,
    firstAck,
    attempted: ids.length,
    ...counts,
    lost: ids.length - counts.delivered,
    notes: `${held} sends held while down and replayed on open; ${failed.length} failed with \`send.failed\`${failed.length ? ` (${[...new Set(failed.map((f) => f.fact.error.message))].join(', ')}: see below)` : ''}`,
    failed: failed.length,
  };
}

async function deadWindowNaive(sim: SimulatorProcess, delayMs: number, drops: number): Promise<DeadWindow> {
  const p = await provision(sim.http);
  const client = new NaiveClient(sim.ws, p, delayMs);
  client.start();
  await client.until('first open', () => (client.isOpen() ? true : undefined), 30_000);
  let openedAt = client.opens.at(-1)!.t;
  const ids: string[] = [];
  const tick = setInterval(() => {
    const id = `NAIVE${delayMs}X${ids.length}`;
    ids.push(id);
    client.send(PEER, `dead window ${id}`, id);
  }, SEND_EVERY_MS);
  const windows: number[] = [];
  const reopen: number[] = [];
  const firstAck: number[] = [];
  try {
    for (let d = 0; d < drops; d++) {
      const wait = openedAt + STEADY_MS + Math.random() * DROP_JITTER_MS - performance.now();
      if (wait > 0) await sleep(wait);
      const generation = client.currentGeneration;
      const t0 = performance.now();
      await drop408(sim.http, p.phone);
      const opened = await client.until('reopen', () => client.opens.find((o) => o.generation > generation), 30_000);
      const acked = await client.until(
        'first ack after reopen',
        () => client.acks.find((a) => a.generation >= opened.generation && a.t >= opened.t),
        30_000,
      );
      windows.push(acked.t - t0);
      reopen.push(opened.t - t0);
      firstAck.push(acked.t - opened.t);
      openedAt = opened.t;
    }
  } finally {
    clearInterval(tick);
  }
  // Sends written just before the end get their acks; nothing is retried, so a short wait suffices.
  await sleep(1_000);
  client.stop();
  const counts = countLedger(await ledger(sim.http, p.phone), ids);
  const lost = ids.length - counts.delivered;
  const silent = lost - client.outcome.refused - client.outcome.threw;
  return {
    variant: `plain Baileys, reconnect ${delayMs === 0 ? 'at once (Baileys example)' : `after ${delayMs / 1000} s`}`,
    windows,
    reopen,
    firstAck,
    attempted: ids.length,
    ...counts,
    lost,
    notes: `lost: ${client.outcome.refused} attempted while down, ${client.outcome.threw} threw, ${silent} written but never reached the server`,
  };
}

// ── 3. memory per account ─────────────────────────────────────────────────
interface MemoryStep {
  accounts: number;
  online?: number;
  allOpenMs?: number;
  memory: NodeJS.MemoryUsage;
}

async function measureMemory(sim: SimulatorProcess): Promise<MemoryStep[]> {
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      'bench/runtime-memory.ts',
      sim.ws,
      sim.http,
      sim.rootPublicKey,
      MEMORY_STEPS.join(','),
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const steps: MemoryStep[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error('memory child timed out'));
    }, MEMORY_DEADLINE_MS);
    createInterface({ input: child.stdout }).on('line', (l) => steps.push(JSON.parse(l) as MemoryStep));
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`memory child exited with ${code}`));
    });
  });
  await done;
  return steps;
}

// ── the section ──────────────────────────────────────────────────────────
const dist = (s: number[]) => [ms(median(s)), ms(percentile(s, 99)), ms(Math.min(...s)), ms(Math.max(...s))];
const mib = (bytes: number) => fmt(bytes / 2 ** 20);

function render(rec: Recovery, ladder: Recovery[], dead: DeadWindow[], memory: MemoryStep[]): string {
  const base = memory.find((m) => m.accounts === 0)!;
  const gatewayFailed = dead.reduce((n, d) => n + (d.failed ?? 0), 0);
  const firstAttempt = rec.attempts.filter((a) => a === 1).length;
  const excess = rec.recovery.map((r, i) => r - rec.drawn[i]!);
  const lines = [
    "The real Gateway (`src/runtime/`, real Baileys 7.0.0-rc14, production auth store on tmpfs) against the simulator running as its own process (`npm run simulator`), on loopback. Times are the arrival times of facts at the gateway's fact sink (`performance.now()` in the sink).",
    '',
    '### Recovery from a transient 408',
    '',
    `**Median ${fmt(median(rec.recovery) / 1000, 3)} s** (target ≤ 0.3 s), p99 ${fmt(percentile(rec.recovery, 99) / 1000, 3)} s over ${rec.recovery.length} forced drops.`,
    '',
    '| per drop (ms) | samples | median | p99 | min | max |',
    '|---|---|---|---|---|---|',
    row([
      '**recovery**: fact `→ reconnecting, statusCode 408` → next fact `→ open`',
      rec.recovery.length,
      ...dist(rec.recovery),
    ]),
    row(['backoff drawn by the machine (full jitter, ceiling 250 ms)', rec.drawn.length, ...dist(rec.drawn)]),
    row(['408 fact → `connecting` (backoff as slept)', rec.slept.length, ...dist(rec.slept)]),
    row(['`connecting` → `open` (new socket: Noise handshake, login)', rec.login.length, ...dist(rec.login)]),
    row(['recovery − drawn backoff', excess.length, ...dist(excess)]),
    row([
      'inject sent → 408 fact (HTTP to the simulator, stream error, Baileys close)',
      rec.detect.length,
      ...dist(rec.detect),
    ]),
    row(['`connecting` → `open`, first 50 drops', 50, ...dist(rec.login.slice(0, 50))]),
    row(['`connecting` → `open`, last 50 drops', 50, ...dist(rec.login.slice(-50))]),
    '',
    `How measured: ${RECOVERY_ACCOUNTS} accounts, one drop at a time, rotating over them; each drop is \`POST /actions {type:"stream-error", code:408}\` on an account that has been open ≥ ${OPEN_BEFORE_DROP_MS} ms, and the next drop waits for its \`→ open\`. ` +
      `Backoff: the real defaults of \`machines/account/timings.ts\` — \`backoffBaseMs\` ${DEFAULT_TIMINGS.backoffBaseMs} (first ceiling), \`backoffCapMs\` ${DEFAULT_TIMINGS.backoffCapMs}, full jitter (uniform in [0, ceiling)) — and every other timing at its default except \`stableAfterMs\`, shrunk from ${DEFAULT_TIMINGS.stableAfterMs / 1000} s to ${STABLE_MS} ms: ` +
      `the ladder resets only after \`stableAfterMs\` open, so at the default 200 drops would need 100 minutes; with the shrunk value every drop is, as a field 408 after minutes open is, the first failure after a stable link (attempt 1 for ${firstAttempt} of ${rec.attempts.length} drops). ` +
      'Expected recovery = mean backoff (125 ms) + login; the breakdown rows show where the time goes.',
    '',
    `Same gateway, \`stableAfterMs\` at its ${DEFAULT_TIMINGS.stableAfterMs / 1000} s default, ${LADDER_ACCOUNTS} accounts each dropped ${LADDER_DROPS} times in a row, every drop as soon as the account is open again (a flapping link): the backoff ceiling doubles per drop, by design.`,
    '',
    '| drop # in a row | ceiling (ms) | samples | recovery median (ms) | max (ms) | backoff drawn, median (ms) |',
    '|---|---|---|---|---|---|',
    ...ladder.map((l, i) =>
      row([
        i + 1,
        DEFAULT_TIMINGS.backoffBaseMs * 2 ** i,
        l.recovery.length,
        ms(median(l.recovery)),
        ms(Math.max(...l.recovery)),
        ms(median(l.drawn)),
      ]),
    ),
    '',
    '### Dead window for sends',
    '',
    '| variant | drops | dead window median (ms) | p99 (ms) | max (ms) | of which drop → open, median | open → first ack, median | sends attempted | lost | duplicated at the server | notes |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...dead.map((d) =>
      row([
        d.variant,
        d.windows.length,
        `**${ms(median(d.windows))}**`,
        ms(percentile(d.windows, 99)),
        ms(Math.max(...d.windows)),
        ms(median(d.reopen)),
        ms(median(d.firstAck)),
        d.attempted,
        `**${d.lost}**`,
        `**${d.duplicatedIds}** ids (${d.extraCopies} extra copies)`,
        d.notes,
      ]),
    ),
    '',
    `How measured: in one run, each variant on its own provisioned account; a client sends one text every ${SEND_EVERY_MS} ms to one contact throughout; after ≥ ${STEADY_MS} ms of steady sending, the simulator drops the session with a 408 stream error. ` +
      'Dead window = from the moment the drop is requested (`performance.now()` before `POST /actions`) to the first server `<ack class=message>` read on the reconnected socket (gateway: the first `send.acked` fact with `ack: server` after the `→ open` fact; plain Baileys: the raw `CB:ack,class:message` frame on the new socket). ' +
      "Lost = sends attempted whose message id never reached the simulator's ledger; duplicated = ledger entries with `count > 1` (the same message id received twice). " +
      `Gateway: \`gateway.submit\` with its default backoff (as above, \`stableAfterMs\` ${STABLE_MS} ms); sends made while down are held and replayed on open, in-flight ones requeued with the same WhatsApp message id. ` +
      "Plain Baileys: `makeWASocket` with in-memory auth; on `connection.update` close (not 401) a new socket after the fixed delay — at once as in Baileys' Example/example.ts, or after 3 s as in many tutorials. The app sends only while it has seen `open` on the current socket (a send during the Noise handshake would corrupt the stream); a send attempted while down is counted lost, as the app has nowhere to put it. " +
      `The 3 s loop gets ${DEAD_WINDOW_DROPS_SLOW} drops (its window is its fixed delay); with ≤ 20 samples p99 is the maximum.`,
    '',
    'Duplicated at the server counts message ids the simulator received more than once, and the extra copies; 1–2 per run of 20 drops is expected, 0 is not a promise. Each is one message id received twice, never two different messages: a send written on the old socket just before the 408 reached the server, its ack did not come back before the close, so the gateway requeued it and sent it again on the new socket with the same WhatsApp message id (at-least-once by design; the receiving client dedups by id). The naive loop never resends, so it cannot duplicate — it loses instead.',
    '',
    ...(gatewayFailed > 0
      ? [
          `**${gatewayFailed} gateway send(s) failed in this run** with \`send.failed\` instead of being held and replayed; the promise is 0. The errors are in the notes column: this is a bug to chase, not a cost of the design.`,
          '',
        ]
      : []),
    '### Memory per connected account',
    '',
    '| accounts | online | all open after (s) | RSS (MiB) | heap used (MiB) | external (MiB) | RSS per account (MiB) | marginal RSS per account (MiB) | heap+external per account (MiB) |',
    '|---|---|---|---|---|---|---|---|---|',
    row([
      '0 (baseline)',
      '—',
      '—',
      mib(base.memory.rss),
      mib(base.memory.heapUsed),
      mib(base.memory.external),
      '—',
      '—',
      '—',
    ]),
    ...memory
      .filter((m) => m.accounts > 0)
      .map((m, i, all) => {
        const prev = i === 0 ? base : all[i - 1]!;
        const per = (m.memory.rss - base.memory.rss) / m.accounts;
        const marginal = (m.memory.rss - prev.memory.rss) / (m.accounts - prev.accounts);
        const heapPer =
          (m.memory.heapUsed + m.memory.external - base.memory.heapUsed - base.memory.external) / m.accounts;
        return row([
          m.accounts,
          m.online ?? '—',
          fmt((m.allOpenMs ?? 0) / 1000),
          mib(m.memory.rss),
          mib(m.memory.heapUsed),
          mib(m.memory.external),
          `**${mib(per)}**`,
          mib(marginal),
          mib(heapPer),
        ]);
      }),
    '',
    'Target ≤ 8 MiB per account. How measured: a fresh Node process (`node --expose-gc`, `bench/runtime-memory.ts`) holding only the Gateway — the simulator is another process, so nothing is subtracted — with default timings and the `ping` keepalive, production auth store on tmpfs. ' +
      `The baseline is taken with every module loaded and the gateway created, 0 accounts. Accounts are provisioned over the control API (\`POST /accounts\`, 20 prekeys) and added ${25} at a time; at each step, once all are open, ` +
      '2 s of settling, then two forced GCs and `process.memoryUsage()`. RSS per account = (RSS − baseline) / accounts; marginal = growth since the previous step / accounts added. ' +
      'RSS includes code that first runs on the first login (lazily loaded protobuf and Signal code) and V8 heap headroom, which is why the per-account figure falls as accounts grow.',
    '',
    "**CPU, not memory, is what grows badly with accounts** (why filling to 500 takes minutes, and a CPU profile at 300 accounts spends ~20 % in `node:async_hooks` `_propagate`): Baileys rc14 wraps every socket's key store in `addTransactionCapability` (`lib/Utils/auth-utils.js`), which creates a `new AsyncLocalStorage()` per socket and never disables it. On Node 20 every enabled AsyncLocalStorage joins a process-wide list walked on every promise created (the promise init hook), and stays there after the socket is gone: 200,000 awaits take 14 ms with none and ~10 s with 500 (used once each, references dropped). So the cost of every promise grows with accounts × reconnects over the process's lifetime. Remedies: Node ≥ 24 (AsyncLocalStorage on AsyncContextFrame, no per-promise hook; Node 22 behind `--experimental-async-context-frame`), or a patch to Baileys that shares one storage or calls `disable()` when the socket ends.",
  ];
  return lines.join('\n');
}

export const title = 'Account runtime';

export default async function bench(): Promise<BenchSection> {
  const unmute = muteConsole();
  const sim = await startSimulatorProcess();
  try {
    const g = await startTimedGateway(sim, GATEWAY_SETTINGS);
    let rec: Recovery;
    let ladder: Recovery[];
    const dead: DeadWindow[] = [];
    try {
      process.stderr.write('bench: runtime: recovery\n');
      rec = await measureRecovery(g, sim);
      process.stderr.write('bench: runtime: ladder\n');
      ladder = await measureLadder(g, sim);
      process.stderr.write('bench: runtime: dead window\n');
      dead.push(await deadWindowGateway(g, sim));
    } finally {
      await g.close();
    }
    for (const delay of NAIVE_DELAYS_MS)
      dead.push(await deadWindowNaive(sim, delay, delay === 0 ? DEAD_WINDOW_DROPS : DEAD_WINDOW_DROPS_SLOW));
    process.stderr.write('bench: runtime: memory\n');
    const memory = await measureMemory(sim);
    return { title, markdown: render(rec, ladder, dead, memory) };
  } finally {
    sim.stop();
    unmute();
  }
}
