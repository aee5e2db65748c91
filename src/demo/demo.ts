/**
 * `wa-connd demo`: NATS, the simulator and a gateway with two accounts, the field
 * report's 408 loop at a scaled-down period, a steady trickle of sends through the
 * typed client, and a tally checked against the simulator's ledger.
 *
 * The server policy: every session is cut with 408 one period after its login,
 * whatever the traffic (the field report's metronome), and an idle timer that only
 * messages and presence reset (pings do not). The two accounts:
 * - `demo-guarded`: keepalive `both`, recycle-ahead on — it learns the period and
 *   reconnects just before each cut: drops *prevented*;
 * - `demo-bare`: keepalive `off`, recycle-ahead off — the server cuts every session:
 *   drops *absorbed* (sends held in the outbox and replayed on reconnect).
 * Every third send of an account goes to a group (the account and three contacts) instead.
 * Both must end with every accepted send in the ledger exactly once, every group send at
 * every participant device.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { AUTH_BUCKET } from '../baileys/auth-codec.js';
import { AUTH_STREAM } from '../baileys/auth-kv.js';
import { importCredentials } from '../baileys/import-credentials.js';
import { ensureNats } from '../bootstrap/nats.js';
import { connectWaClient, type EventFeed, type WaClient } from '../client/index.js';
import type { Config } from '../config/schema.js';
import { validateConfig } from '../config/load.js';
import { EVENTS_STREAM, evtFilter, isWaError, type KeepaliveStrategy } from '../contract/index.js';
import { startGateway, type RunningGateway } from '../gateway/start.js';
import { remoteSimulator, startLocalSimulator, type SimulatorLink } from './simulator-link.js';
import { Tally, type LedgerRow } from './tally.js';

/** The field report's server timer: ~16 min between drops. */
export const FIELD_REPORT_PERIOD_MS = 16 * 60_000;
/** After the trickle stops, how long held sends get to go out before what is missing counts as lost. */
const SETTLE_DEADLINE_MS = 20_000;
/** How often the ledger is compared while settling. */
const SETTLE_POLL_MS = 100;
/** Every this many sends is an image (issue 13): media goes through the 408 loop too. */
const IMAGE_EVERY = 5;
/** Small, inline: the point is the upload and its replay, not the bytes. */
const IMAGE_BYTES = 8 * 1024;
/** Every this many sends of an account, one goes to the account's group instead. */
const GROUP_EVERY = 3;
/** Contacts in each account's group, besides the account itself. */
const GROUP_CONTACTS = 3;
/** Participants of each demo group (the account and its contacts): devices each group send must reach. */
export const DEMO_GROUP_SIZE = GROUP_CONTACTS + 1;
/** Both accounts must be open before the trickle starts; a login on loopback takes < 1 s. */
const OPEN_DEADLINE_MS = 20_000;

export const DEMO_ACCOUNTS: { id: string; keepalive: KeepaliveStrategy; recycleAheadOfDrops: boolean; to: string }[] = [
  { id: 'demo-guarded', keepalive: 'both', recycleAheadOfDrops: true, to: '+4915100000001' },
  { id: 'demo-bare', keepalive: 'off', recycleAheadOfDrops: false, to: '+4915100000002' },
];

export type DemoOptions = {
  /** Base configuration (NATS URL, credentials); accounts, data dir and WhatsApp URL are the demo's. */
  base: Config;
  /** Stop after this long; null: until `stop()`. */
  durationMs: number | null;
  ratePerSecond: number;
  /** The server's drop period after scaling. */
  periodMs: number;
  dataDir?: string;
  /** A running simulator instead of one in this process. */
  remote?: { httpUrl: string; wsUrl: string; timeScale: number };
  logger: Logger;
  /** Called with a summary every `reportEveryMs`, and once at the end with `final: true`. */
  report(summary: DemoSummary, final: boolean): void;
  reportEveryMs: number;
  /** Called once the gateway is up, before the trickle starts: where to watch. */
  onReady?(where: DemoUrls): void;
};

export type DemoUrls = {
  inspector: string;
  metrics: string;
  readyz: string;
  /** The simulator's control API (ledger, faults, accounts; docs/simulator.md). */
  simulator: string;
  nats: string;
  /** The configured HTTP port when it was in use and the demo took another one. */
  httpPortTaken: number | null;
  /** The HTTP server wants a bearer token (`?token=` once in a browser). */
  token: boolean;
};

export type DemoSummary = ReturnType<Tally['summary']> & { elapsedMs: number; periodMs: number };

export interface DemoRun {
  /** Resolves with the final summary once the demo has stopped and cleaned up. */
  done: Promise<DemoSummary>;
  stop(): void;
}

export function runDemo(o: DemoOptions): DemoRun {
  let stopRequested: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stopRequested = resolve;
  });
  const done = run(o, stopped);
  return { done, stop: () => stopRequested() };
}

async function run(o: DemoOptions, stopped: Promise<void>): Promise<DemoSummary> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse())
      await c().catch((err: unknown) => o.logger.warn({ err }, 'demo cleanup step failed'));
  };
  try {
    const dataDir = o.dataDir ?? (await mkdtemp(join(tmpdir(), 'wa-connd-demo-')));
    if (!o.dataDir) cleanups.push(() => rm(dataDir, { recursive: true, force: true }));

    const timeScale = o.remote ? o.remote.timeScale : o.periodMs / FIELD_REPORT_PERIOD_MS;
    const sim: SimulatorLink = o.remote
      ? await remoteSimulator(o.remote.httpUrl, o.remote.wsUrl, o.logger)
      : await startLocalSimulator(timeScale, o.logger.child({ component: 'simulator' }));
    cleanups.push(() => sim.close());
    const cut = { afterMs: FIELD_REPORT_PERIOD_MS, code: 408 };
    await sim.setFaults({
      idleTimeout: { ...cut, resetBy: ['message', 'presence'] },
      recycle: { everyMs: cut.afterMs, code: cut.code },
    });

    const phones = new Map<string, string>();
    // Each account is in a group with a few contacts: every GROUP_EVERY-th send goes there.
    const groups = new Map<string, string>();
    for (const [i, a] of DEMO_ACCOUNTS.entries()) {
      const p = await sim.provision();
      phones.set(a.id, p.phone);
      await importCredentials(dataDir, a.id, p);
      const contacts = Array.from({ length: GROUP_CONTACTS }, (_, k) => `49151000001${i}${k}`);
      groups.set(a.id, await sim.createGroup(`${a.id} alerts`, [p.phone, ...contacts]));
    }

    let config = demoConfig(o.base, dataDir, sim, o.periodMs, o.base.http.port);
    // NATS first, to clear the demo accounts' history of earlier runs (their outboxes
    // would otherwise be replayed into this run's fresh simulator).
    const nats = await ensureNats(config, o.logger);
    cleanups.push(() => nats.close());
    await forgetDemoAccounts(nats.nc);

    // The configured HTTP port (README's 8080 unless set), so the documented inspector URL
    // works; any free one when something (a running gateway) has it: a demo must not fail
    // because a gateway runs.
    let httpPortTaken: number | null = null;
    const gateway: RunningGateway = await startGateway(config, o.logger).catch((err: unknown) => {
      if (!isAddressInUse(err) || config.http.port === 0) throw err;
      httpPortTaken = config.http.port;
      config = demoConfig(o.base, dataDir, sim, o.periodMs, 0);
      return startGateway(config, o.logger);
    });
    cleanups.push(() => gateway.close());
    o.onReady?.({
      inspector: `${gateway.http.url}/inspect`,
      metrics: `${gateway.http.url}/metrics`,
      readyz: `${gateway.http.url}/readyz`,
      simulator: sim.controlUrl,
      nats: config.nats.url,
      httpPortTaken,
      token: config.http.token !== undefined,
    });

    const wa: WaClient = await connectWaClient({ nc: nats.nc });
    cleanups.push(() => wa.close());
    const tally = new Tally(DEMO_ACCOUNTS.map((a) => ({ account: a.id, keepalive: a.keepalive })));
    const feeds: EventFeed[] = DEMO_ACCOUNTS.map((a) => wa.events({ account: a.id, since: 1 }));
    const reading = feeds.map(async (feed) => {
      for await (const { event } of feed) tally.apply(event);
    });
    cleanups.push(async () => {
      for (const f of feeds) f.close();
      await Promise.allSettled(reading);
    });

    for (const a of DEMO_ACCOUNTS) await wa.connect(a.id);
    await waitFor(
      () => DEMO_ACCOUNTS.every((a) => tally.state(a.id) === 'open'),
      OPEN_DEADLINE_MS,
      'both demo accounts open',
    );

    const ledger = async (): Promise<Map<string, LedgerRow[]>> =>
      new Map(await Promise.all(DEMO_ACCOUNTS.map(async (a) => [a.id, await sim.ledger(phones.get(a.id)!)] as const)));
    const startedAt = Date.now();
    const summary = async (): Promise<DemoSummary> => ({
      ...tally.summary(await ledger()),
      elapsedMs: Date.now() - startedAt,
      periodMs: o.periodMs,
    });

    // The trickle: one send every 1/rate s, alternating accounts, each awaited on its own.
    const runId = Date.now().toString(36);
    let n = 0;
    const inflight = new Set<Promise<void>>();
    const trickle = setInterval(
      () => {
        const a = DEMO_ACCOUNTS[n % DEMO_ACCOUNTS.length]!;
        const id = `demo-${runId}-${++n}`;
        const toGroup = Math.ceil(n / DEMO_ACCOUNTS.length) % GROUP_EVERY === 0;
        const text = `wa-connd demo ${toGroup ? 'group ' : ''}message ${n} (${runId})`;
        const fanOut = toGroup ? { fanOut: DEMO_GROUP_SIZE } : {};
        // An image's caption is its text: the tally finds it in the ledger by it.
        const image = !toGroup && n % IMAGE_EVERY === 0;
        const content = image
          ? { kind: 'image' as const, media: { base64: randomBytes(IMAGE_BYTES).toString('base64') }, caption: text }
          : { text };
        const p = wa
          .send(a.id, { id, to: toGroup ? groups.get(a.id)! : a.to, ...content })
          .then(() => {
            tally.recordSent({ account: a.id, id, text, at: Date.now(), ...fanOut });
            if (image) tally.images++;
          })
          .catch((err: unknown) => {
            tally.refused++;
            o.logger.warn({ account: a.id, id, code: isWaError(err) ? err.code : 'internal' }, 'demo send refused');
          })
          .finally(() => inflight.delete(p));
        inflight.add(p);
      },
      Math.max(1, Math.round(1000 / o.ratePerSecond)),
    );
    const reporter = setInterval(() => void summary().then((s) => o.report(s, false)), o.reportEveryMs);
    cleanups.push(async () => {
      clearInterval(trickle);
      clearInterval(reporter);
    });

    const timer =
      o.durationMs === null ? null : new Promise<void>((resolve) => setTimeout(resolve, o.durationMs!).unref());
    await Promise.race([stopped, ...(timer ? [timer] : [])]);
    clearInterval(trickle);
    clearInterval(reporter);
    await Promise.allSettled([...inflight]);

    // Settle: every accepted send must reach the ledger; what has not by the deadline is lost.
    const settleUntil = Date.now() + SETTLE_DEADLINE_MS;
    let last = await summary();
    while (last.lost > 0 && Date.now() < settleUntil) {
      await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
      last = await summary();
    }
    await cleanup();
    return last;
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/**
 * Account timings scaled like the server's timer, so the demo is the field at a smaller
 * clock: the defaults probe every 5 s and send presence every 5 min against a 16-min
 * timer (here a sixth and a third of the period), and a 30 s open session counts as
 * stable (a 16-min session resets the backoff in the field; here 1/32 of the period
 * does). The backoff cap is one period, so a settle never waits out a minute's backoff.
 */
function scaledKeepalive(periodMs: number) {
  const probeJitterMs = Math.min(500, Math.round(periodMs / 40));
  const stableAfterMs = Math.max(50, Math.round((periodMs * 30_000) / FIELD_REPORT_PERIOD_MS));
  return {
    presenceEveryMs: Math.round(periodMs / 3),
    timings: {
      idleAfterMs: Math.round(periodMs / 6) - probeJitterMs,
      probeJitterMs,
      stableAfterMs,
      backoffCapMs: periodMs,
    },
  };
}

function demoConfig(base: Config, dataDir: string, sim: SimulatorLink, periodMs: number, httpPort: number): Config {
  return validateConfig({
    ...base,
    dataDir,
    whatsapp: { url: sim.wsUrl, trustRootPublicKey: sim.rootPublicKey },
    http: { ...base.http, port: httpPort },
    accounts: DEMO_ACCOUNTS.map((a) => ({
      id: a.id,
      keepalive: a.keepalive,
      recycleAheadOfDrops: a.recycleAheadOfDrops,
      connect: false,
      ...scaledKeepalive(periodMs),
    })),
  });
}

/** EADDRINUSE, raw or as the cause of a typed error. */
function isAddressInUse(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++)
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') return true;
  return false;
}

async function forgetDemoAccounts(nc: Parameters<typeof jetstreamManager>[0]): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const exists = await jsm.streams.info(EVENTS_STREAM).then(
    () => true,
    () => false,
  );
  if (exists) for (const a of DEMO_ACCOUNTS) await jsm.streams.purge(EVENTS_STREAM, { filter: evtFilter(a.id) });
  // A previous demo's credentials in WA_AUTH belong to a simulator that is gone: the
  // gateway would prefer them to the fresh ones in the data dir and never log in.
  const auth = await jsm.streams.info(AUTH_STREAM).then(
    () => true,
    () => false,
  );
  if (auth)
    for (const a of DEMO_ACCOUNTS) await jsm.streams.purge(AUTH_STREAM, { filter: `$KV.${AUTH_BUCKET}.${a.id}.>` });
}

async function waitFor(check: () => boolean, deadlineMs: number, what: string): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`demo: timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
