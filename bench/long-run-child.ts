// Child process of the long-run benchmark: one Gateway with many accounts against a simulator
// process, every account dropped with a 408 over and over (each drop waits until the account
// has been open a while), until `target` reconnects or the budget is spent. Run on the Node
// under test with --expose-gc:
//   <node> --expose-gc --import tsx bench/long-run-child.ts <ws> <http> <rootPublicKey> <accounts> <target> <budgetMs> <window>
// Prints JSON lines on stdout: one `window` per <window> reconnects (CPU per reconnect, event-loop
// delay p99), a `snapshot` after the warm-up window and at the end (plus RSS after GC and the
// cost of 100,000 awaits, both taken with the drops paused), and `done`.
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { isOnline } from '../machines/index.js';
import type { Fact } from '../src/runtime/port.js';
import { Waiters } from '../test/support/waiters.js';
import { muteConsole, startTimedGateway } from './runtime-gateway.js';
import { drop408, provision, type Provisioned } from './sim-process.js';

/** A dropped account is hit again only after this long open (> stableAfterMs): each drop is a first failure. */
const OPEN_BEFORE_DROP_MS = 600;
/** As in the runtime bench: the backoff ladder resets after 0.5 s open instead of 30 s. */
const STABLE_MS = 500;
/** Provisioned and added at once: enough to overlap logins, few enough not to time out. */
const BATCH = 25;
/** One account's drop → reopen; far above a recovery (~0.2 s), low enough to fail a stuck run. */
const REOPEN_DEADLINE_MS = 60_000;
const OPEN_DEADLINE_MS = 120_000;
/**
 * Reconnects in flight at once. The pace is whatever the CPU allows; with all 50 at once the
 * loop delay would measure the queue of simultaneous logins rather than the process.
 */
const MAX_IN_FLIGHT = 8;
const AWAITS = 100_000;
/**
 * The await loop is repeated and the minimum taken (a shared machine adds noise to a 5 ms
 * loop), up to this many passes while the passes so far took under AWAITS_REPEAT_BELOW_MS.
 */
const AWAITS_PASSES = 20;
const AWAITS_REPEAT_BELOW_MS = 1_000;

const [ws, http, rootPublicKey, accountsArg, targetArg, budgetArg, windowArg] = process.argv.slice(2);
if (!ws || !http || !rootPublicKey || !accountsArg || !targetArg || !budgetArg || !windowArg) {
  throw new Error('usage: long-run-child.ts <ws> <http> <rootPublicKey> <accounts> <target> <budgetMs> <window>');
}
/** Reconnects per measurement window; the first window is warm-up (JIT, lazily loaded code). */
const WINDOW = Number(windowArg);
const simHttp: string = http;
const accounts = Number(accountsArg);
const target = Number(targetArg);
const budgetMs = Number(budgetArg);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const emit = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

muteConsole();
// Only what the drivers need: each account's latest state and how often it reached `open`.
const latest = new Map<string, { state: string; opens: number; openedAt: number }>();
const waiters = new Waiters();
const sink = (fact: Fact): void => {
  if (fact.type !== 'transition') return;
  const a = latest.get(fact.account) ?? { state: '', opens: 0, openedAt: 0 };
  a.state = fact.to;
  if (fact.to === 'open' && !isOnline(fact.from)) {
    a.opens++;
    a.openedAt = performance.now();
  }
  latest.set(fact.account, a);
  waiters.poke();
};
const g = await startTimedGateway(
  { ws, rootPublicKey },
  { keepalive: 'ping', timings: { stableAfterMs: STABLE_MS }, recycleAheadOfDrops: false },
  sink,
);

const ids: { account: string; phone: string }[] = [];
for (let added = 0; added < accounts;) {
  const n = Math.min(BATCH, accounts - added);
  const batch: Provisioned[] = [];
  for (let i = 0; i < n; i++) batch.push(await provision(simHttp));
  await Promise.all(
    batch.map(async (p, i) => {
      const account = `long-${String(added + i).padStart(3, '0')}`;
      ids.push({ account, phone: p.phone });
      await g.add(account, p);
    }),
  );
  added += n;
}
await waiters.until(
  `${accounts} accounts online`,
  () => (g.gateway.list().filter((a) => isOnline(a.state)).length >= accounts ? true : undefined),
  OPEN_DEADLINE_MS,
);

// ── measurement ───────────────────────────────────────────────────────────
const eld = monitorEventLoopDelay({ resolution: 10 });
eld.enable();
let cpuMark = process.cpuUsage();
let countMark = 0;
let reconnects = 0;

function closeWindow(): { cpuMsPerReconnect: number; eldP99Ms: number; reconnects: number } {
  const cpu = process.cpuUsage(cpuMark);
  const n = reconnects - countMark;
  const out = {
    reconnects,
    cpuMsPerReconnect: (cpu.user + cpu.system) / 1000 / Math.max(1, n),
    eldP99Ms: eld.percentile(99) / 1e6,
    rssNowMiB: process.memoryUsage.rss() / 2 ** 20,
  };
  eld.reset();
  cpuMark = process.cpuUsage();
  countMark = reconnects;
  return out;
}

async function awaitsMs(): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  const started = performance.now();
  for (let pass = 0; pass < AWAITS_PASSES && performance.now() - started < AWAITS_REPEAT_BELOW_MS; pass++) {
    const t0 = performance.now();
    // Awaiting a resolved promise is the unit measured: one microtask hop through every hook.
    for (let i = 0; i < AWAITS; i++) await Promise.resolve();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** Drops paused and in-flight reconnects finished: RSS after GC and the await cost. */
let paused: Promise<void> | null = null;
let inFlight = 0;
async function snapshot(at: 'start' | 'end', window: ReturnType<typeof closeWindow>): Promise<void> {
  let resume!: () => void;
  paused = new Promise((r) => (resume = r));
  await waiters.until('in-flight reconnects done', () => (inFlight === 0 ? true : undefined), REOPEN_DEADLINE_MS, 20);
  gc!();
  await sleep(50);
  gc!();
  const memory = process.memoryUsage();
  const awaits = await awaitsMs();
  emit({
    kind: 'snapshot',
    at,
    ...window,
    rssMiB: memory.rss / 2 ** 20,
    heapUsedMiB: memory.heapUsed / 2 ** 20,
    awaitsMs: awaits,
    loadAverage: loadavg()[0],
  });
  // The pause and the measurement are not load: the next window starts after them.
  closeWindow();
  paused = null;
  resume();
}

const started = performance.now();
const deadline = started + budgetMs;
let windows = 0;
let lastWindow: ReturnType<typeof closeWindow> | null = null;
let stop = false;
let failures = 0;

async function driver(account: string, phone: string): Promise<void> {
  while (!stop) {
    if (performance.now() > deadline) stop = true;
    if (paused) await paused;
    if (stop) return;
    const a = latest.get(account)!;
    const wait = a.openedAt + OPEN_BEFORE_DROP_MS - performance.now();
    if (wait > 0) await sleep(wait);
    if (paused || stop) continue;
    if (!isOnline(g.gateway.state(account))) {
      await waiters.until(
        `${account} online`,
        () => (isOnline(g.gateway.state(account)) ? true : undefined),
        REOPEN_DEADLINE_MS,
      );
      continue;
    }
    if (inFlight >= MAX_IN_FLIGHT) {
      await waiters.until(
        'a free reconnect slot',
        () => (inFlight < MAX_IN_FLIGHT ? true : undefined),
        REOPEN_DEADLINE_MS,
        5,
      );
      continue;
    }
    const opens = a.opens;
    inFlight++;
    try {
      await drop408(simHttp, phone);
      await waiters.until(
        `${account} reopened`,
        () => (a.opens > opens && isOnline(g.gateway.state(account)) ? true : undefined),
        REOPEN_DEADLINE_MS,
      );
    } catch (err) {
      // A slow or failed reopen is a result, not a crash: counted, and the account goes on.
      failures++;
      process.stderr.write(`long-run: ${account}: ${(err as Error).message}\n`);
      continue;
    } finally {
      inFlight--;
    }
    reconnects++;
    if (reconnects % WINDOW === 0 && reconnects <= target) {
      windows++;
      const w = closeWindow();
      lastWindow = w;
      emit({ kind: 'window', ...w, elapsedMs: performance.now() - started });
      if (windows === 2) await snapshot('start', w);
      if (reconnects >= target) stop = true;
    }
  }
}

await Promise.all(ids.map((a) => driver(a.account, a.phone)));
if (lastWindow) await snapshot('end', lastWindow);
emit({
  kind: 'done',
  reconnects,
  failures,
  durationMs: performance.now() - started,
  node: process.version,
  reachedTarget: reconnects >= target,
});
await g.close();
process.exit(0);
