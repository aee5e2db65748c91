// Keepalive churn at 500 accounts, before and after liveness retention (issue 15, item 3):
// the same keepalive-only load through the gateway's publisher, once as before (every
// transition and keepalive stays in WA_EVENTS until age or size pushes it out, records
// with it) and once with the liveness trim (each account's transition / keepalive subject
// purged down to its last `keep`). Each side on its own nats-server, so the stream numbers
// are that side's alone. Time is scaled: cycles are published back to back.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { pino } from 'pino';
import { EVENTS_STREAM } from '../src/contract/index.js';
import { EventCounters } from '../src/nats/counters.js';
import { EventPublisher } from '../src/nats/event-publisher.js';
import { LivenessTrim } from '../src/nats/liveness-trim.js';
import { Projection } from '../src/nats/projection.js';
import { DEFAULT_STREAM_SETTINGS, ensureStream } from '../src/nats/stream.js';
import type { Fact } from '../src/runtime/port.js';
import { connectTo, startNatsServer } from '../test/support/nats-server.js';
import type { BenchSection } from './run.js';
import { fmt } from './stats.js';

const ACCOUNTS = 500;
/** Keepalive cycles per account (4 events each: 3 transitions and the keepalive). */
const CYCLES = 60;
/**
 * Liveness kept per account and type on the "after" side. Smaller than the default 1,000
 * so that the short run reaches the trimmed steady state; it trims a subject every 50
 * events, 10× as often as the default does, so the purge cost shown is an upper bound.
 */
const KEEP = 100;
/** A keepalive cycle every ~7.5 s (the default idle timer): events per account per second at real time. */
const REAL_EVENTS_PER_ACCOUNT_S = 4 / 7.5;

const silent = pino({ level: 'silent' });

function cycle(account: string): Fact[] {
  return [
    { account, type: 'transition', from: 'open', to: 'idle', event: 'IdleTimeout' },
    { account, type: 'transition', from: 'idle', to: 'pinging', event: 'KeepaliveDue' },
    { account, type: 'keepalive', probe: 'ping', outcome: 'ok', rttMs: 87, loopDelayMs: 3 },
    { account, type: 'transition', from: 'pinging', to: 'open', event: 'PingAnswered' },
  ];
}

type Side = {
  events: number;
  ms: number;
  messages: number;
  bytes: number;
  trims: number;
  trimmed: number;
  trimMs: number;
};

async function run(trim: boolean): Promise<Side> {
  const server = await startNatsServer();
  const nc = await connectTo(server.url);
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, DEFAULT_STREAM_SETTINGS, silent);
    const counters = new EventCounters();
    const publisher = new EventPublisher({
      js: jetstream(nc),
      jsm,
      writerId: trim ? 'after' : 'before',
      logger: silent,
      projection: new Projection(),
      counters,
      maxBuffered: ACCOUNTS * CYCLES * 4,
    });
    const trimmer = new LivenessTrim({ jsm, keep: KEEP, counters, logger: silent });
    if (trim) publisher.onStored((e) => trimmer.stored(e));
    const accounts = [...Array(ACCOUNTS).keys()].map((i) => `a${i}`);
    await publisher.adopt(accounts);
    const base = (await jsm.streams.info(EVENTS_STREAM)).state;
    const t0 = performance.now();
    for (let c = 0; c < CYCLES; c++) for (const a of accounts) for (const f of cycle(a)) publisher.sink(f);
    if (!(await publisher.flushed(undefined, 600_000))) throw new Error('the publisher did not drain in 10 min');
    await trimmer.idle();
    const ms = performance.now() - t0;
    const after = (await jsm.streams.info(EVENTS_STREAM)).state;
    await publisher.close();
    return {
      events: counters.published,
      ms,
      // Fence markers (13 per account) are not the load: left out.
      messages: after.messages - base.messages,
      bytes: after.bytes - base.bytes,
      trims: counters.livenessTrims,
      trimmed: counters.livenessTrimmed,
      trimMs: counters.livenessTrimMs,
    };
  } finally {
    await nc.close();
    await server.stop();
  }
}

export const title = 'Keepalive churn at 500 accounts: what reaches WA_EVENTS, before and after liveness retention';

export default async function livenessBench(): Promise<BenchSection> {
  const before = await run(false);
  const after = await run(true);
  const perEvent = before.bytes / before.messages;
  const realRate = ACCOUNTS * REAL_EVENTS_PER_ACCOUNT_S;
  const gib = 1024 ** 3;
  const hoursToFill = gib / (realRate * perEvent) / 3600;
  const defaultBound = ACCOUNTS * 2 * DEFAULT_STREAM_SETTINGS.livenessPerSubject * 1.5 * perEvent;
  const row = (name: string, s: Side) =>
    `| ${name} | ${s.events} | ${fmt(s.events / (s.ms / 1000), 0)} | ${s.messages} | ${fmt(s.bytes / 1024 ** 2, 1)} | ${s.trims} | ${s.trimmed} |`;
  const markdown = [
    `${ACCOUNTS} accounts, ${CYCLES} keepalive cycles each (open → idle → pinging → open and the \`keepalive\` event: 4 events),`,
    'handed to one `EventPublisher` as fast as it takes them (scaled time: no 7.5 s between cycles), one nats-server',
    `(own process, file store) per side. *before*: nothing trims liveness (as until issue 15). *after*: \`LivenessTrim\``,
    `with keep ${KEEP} per account and type (trims each subject every ${Math.floor(KEEP / 2)} events — 10× as often as the`,
    `default keep ${DEFAULT_STREAM_SETTINGS.livenessPerSubject}, so its cost here is an upper bound). *kept*: messages and bytes the load left in WA_EVENTS.`,
    '',
    '| side | events published | events/s | messages kept | MiB kept | purges | events trimmed |',
    '|---|---|---|---|---|---|---|',
    row('before', before),
    row('after', after),
    '',
    `A purge took ${fmt(after.trimMs / Math.max(1, after.trims), 1)} ms on average (request to answer, ${after.trims} purges` +
      ` of a stream of ${fmt(after.bytes / 1024 ** 2, 0)} MiB; it scans the stream, so it costs more on a fuller one).`,
    '',
    `Publish rate after / before: ${fmt(after.events / after.ms / (before.events / before.ms), 2)}×.`,
    '',
    `At real time, ${ACCOUNTS} accounts make ${fmt(realRate, 0)} liveness events/s (4 per 7.5 s cycle; the issue's 200/s counts`,
    `the transitions only), ~${fmt(perEvent, 0)} bytes each in the stream. *Before*, all of it reaches WA_EVENTS and stays:`,
    `the 1 GiB default is full after **${fmt(hoursToFill, 1)} h**, from then on every record older than that is pushed out`,
    `(the idempotency window shrinks to hours). *After*, the same events reach WA_EVENTS but at most keep × 1.5 per account`,
    `and subject stay: with the default keep ${DEFAULT_STREAM_SETTINGS.livenessPerSubject}, ≤ ${fmt(defaultBound / 1024 ** 2, 0)} MiB for ${ACCOUNTS}`,
    'accounts whatever the keepalive rate, and the rest of `maxBytes` belongs to records (idempotency window: `maxAgeMs`, 30 days).',
  ].join('\n');
  return { title, markdown };
}
