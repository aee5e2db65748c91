/**
 * The event publisher against a real nats-server: order and gapless seqs, msg-id
 * dedupe, fencing a second writer, the offline buffer bound, and a server restart in
 * the middle of a stream of facts.
 */
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_STREAM, makeEvent, WaError } from '../../src/contract/index.js';
import { EventPublisher, type PublisherOptions } from '../../src/nats/event-publisher.js';
import { FencedWriter } from '../../src/nats/fenced-writer.js';
import { Projection } from '../../src/nats/projection.js';
import { DEFAULT_STREAM_SETTINGS, ensureStream } from '../../src/nats/stream.js';
import type { Fact } from '../../src/runtime/port.js';
import { connectTo, type NatsServer, nextStatus, startNatsServer } from '../support/nats-server.js';
import { checkSequences, dumpStream } from '../support/nats-client.js';
import { capturingLogger, silent } from '../support/loggers.js';
import { until } from '../support/waiters.js';

let server: NatsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
let n = 0;
const nextAccount = () => `pub${++n}`;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  jsm = await jetstreamManager(nc);
  await ensureStream(jsm, DEFAULT_STREAM_SETTINGS, silent);
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

function publisher(overrides: Partial<PublisherOptions> = {}): EventPublisher {
  return new EventPublisher({
    js: jetstream(nc),
    jsm,
    writerId: `w${++n}`,
    logger: silent,
    projection: new Projection(),
    ...overrides,
  });
}

const inbound = (account: string, i: number): Fact => ({
  account,
  type: 'message.in',
  waMessageId: `m-${account}-${i}`,
  from: '4915100000001@s.whatsapp.net',
  chat: '4915100000001@s.whatsapp.net',
  timestamp: new Date(0).toISOString(),
});
const keepalive = (account: string): Fact => ({ account, type: 'keepalive', probe: 'ping', outcome: 'ok', rttMs: 12 });

/** The i of `m-<account>-<i>` for every message.in of the account, in stream order. */
async function inboundOrder(account: string): Promise<number[]> {
  const dump = await dumpStream(nc);
  checkSequences(dump.events);
  return dump.events
    .filter((e) => e.event.account === account && e.event.type === 'message.in')
    .map((e) => Number((e.event as { waMessageId: string }).waMessageId.split('-').pop()));
}

describe('when facts are published', () => {
  it('keeps per-account order and a gapless seq from 1, interleaved across accounts', async () => {
    const [a, b] = [nextAccount(), nextAccount()];
    const p = publisher();
    await p.adopt([a, b]);
    for (let i = 0; i < 150; i++) {
      p.sink(inbound(a, i));
      p.sink(inbound(b, i));
    }
    expect(await p.flushed(undefined, 10_000)).toBe(true);
    const range = [...Array(150).keys()];
    expect(await inboundOrder(a)).toEqual(range);
    expect(await inboundOrder(b)).toEqual(range);
    expect(p.counters.snapshot()).toMatchObject({ published: 300, buffered: 0, dropped: 0 });
    await p.close();
  });

  it('stamps v, account, at and seq; the msg id is <account>:<writer>:<seq>, l<seq> for liveness', async () => {
    const a = nextAccount();
    const p = publisher({ writerId: 'stamp-writer' });
    await p.adopt([a]);
    const ev = await p.record(keepalive(a)).acked;
    expect(ev).toMatchObject({ v: 1, account: a, type: 'keepalive', seq: 1 });
    const rec = await p.record(inbound(a, 0)).acked;
    // A record counts its own seq: the first one is 1 too, under another msg id.
    expect(rec).toMatchObject({ type: 'message.in', seq: 1 });
    const dump = await dumpStream(nc);
    const ids = dump.events.filter((e) => e.event.account === a).map((e) => e.msgId);
    expect(ids).toEqual([`${a}:stamp-writer:l1`, `${a}:stamp-writer:1`]);
    await p.close();
  });

  it('never stores a retried publish twice (same msg id → duplicate ack, same stream seq)', async () => {
    const a = nextAccount();
    const w = new FencedWriter(a, 'retry', jetstream(nc), jsm, 2_000);
    await w.fence();
    const event = makeEvent('keepalive', { account: a, seq: 1, at: new Date() }, { probe: 'ping', outcome: 'ok' });
    const first = await w.write(event);
    // A second process view of the same writer (lost ack: it never learnt the new expectation).
    const again = new FencedWriter(a, 'retry', jetstream(nc), jsm, 2_000);
    const retry = await again.write(event);
    expect(first.duplicate).toBe(false);
    expect(retry).toEqual({ streamSeq: first.streamSeq, duplicate: true });
    const dump = await dumpStream(nc);
    expect(dump.events.filter((e) => e.event.account === a)).toHaveLength(1);
  });

  it('rejects facts that do not validate and counts them, without a seq gap', async () => {
    const a = nextAccount();
    const p = publisher();
    await p.adopt([a]);
    const bad = { account: a, type: 'keepalive', probe: 'ping', outcome: 'maybe' } as unknown as Fact;
    await expect(p.record(bad).acked).rejects.toMatchObject({ code: 'internal' });
    p.sink(keepalive(a));
    await p.flushed(a);
    expect(p.counters.droppedBy()).toEqual([{ reason: 'invalid', type: 'keepalive', count: 1 }]);
    const seqs = (await dumpStream(nc)).events.filter((e) => e.event.account === a).map((e) => e.event.seq);
    expect(seqs).toEqual([1]);
    await p.close();
  });
});

describe('when a second writer takes an account over', () => {
  it('fences the first: its next publish is rejected, it stops writing, the second continues the seq', async () => {
    const a = nextAccount();
    const fenced: string[] = [];
    const first = publisher({ onFenced: (acct) => fenced.push(acct) });
    await first.adopt([a]);
    for (let i = 0; i < 5; i++) first.sink(inbound(a, i));
    await first.flushed(a);

    const second = publisher();
    await second.adopt([a]);
    expect(second.isReady(a)).toBe(true);

    first.sink(inbound(a, 100));
    await until('the first writer to notice it was fenced', () => fenced.length === 1);
    expect(fenced).toEqual([a]);
    expect(first.counters.fencedAccounts).toBe(1);
    // Later facts are dropped, not retried forever.
    await expect(first.record(inbound(a, 101)).acked).rejects.toBeInstanceOf(WaError);
    expect(first.counters.buffered).toBe(0);

    for (let i = 5; i < 10; i++) second.sink(inbound(a, i));
    await second.flushed(a);
    expect(await inboundOrder(a)).toEqual([...Array(10).keys()]);
    await Promise.all([first.close(), second.close()]);
  });
});

describe('when NATS is unreachable', () => {
  it('buffers in order, evicts observability facts at the bound, keeps records, and reports drops', async () => {
    const own = await startNatsServer();
    const conn = await connectTo(own.url);
    try {
      const ownJsm = await jetstreamManager(conn);
      await ensureStream(ownJsm, DEFAULT_STREAM_SETTINGS, silent);
      const { logger, lines } = capturingLogger();
      const a = 'bounded';
      const p = new EventPublisher({
        js: jetstream(conn),
        jsm: ownJsm,
        writerId: 'wb',
        logger,
        projection: new Projection(),
        maxBuffered: 20,
        reserve: 10,
        publishTimeoutMs: 500,
      });
      await p.adopt([a]);
      const reconnected = nextStatus(conn, 'reconnect', 20_000);
      await own.kill();
      for (let i = 0; i < 30; i++) p.sink(keepalive(a));
      for (let i = 0; i < 25; i++) p.sink(inbound(a, i));
      // Over the bound with no observability fact left: a new send is refused (its client would get `unavailable`)...
      const refused = p.record({
        account: a,
        type: 'send.queued',
        id: 's1',
        to: '4915100000001@s.whatsapp.net',
        kind: 'text',
        text: 'x',
      });
      await expect(refused.acked).rejects.toMatchObject({ code: 'unavailable' });
      // ...and past bound + reserve even records are.
      for (let i = 25; i < 30; i++) p.sink(inbound(a, i));

      const dropped = p.counters.droppedBy();
      expect(dropped.find((d) => d.type === 'keepalive')?.count).toBeGreaterThanOrEqual(29);
      expect(dropped.find((d) => d.type === 'send.queued')?.count).toBe(1);
      expect(p.counters.buffered).toBe(30);
      const line = lines.find((l) => l['reason'] === 'buffer_full');
      expect(line?.['msg']).toMatch(/offline event buffer full/);
      expect(line?.['account']).toBe(a);

      await own.restart();
      await reconnected;
      expect(await p.flushed(a, 15_000)).toBe(true);
      const dump = await dumpStream(conn);
      checkSequences(dump.events);
      const ins = dump.events
        .filter((e) => e.event.type === 'message.in')
        .map((e) => (e.event as { waMessageId: string }).waMessageId);
      // Everything up to the hard cap (bound 20 + reserve 10 = 30 facts, one being the in-flight keepalive).
      expect(ins).toEqual([...Array(29).keys()].map((i) => `m-${a}-${i}`));
      await p.close();
    } finally {
      await conn.close();
      await own.stop();
    }
  });

  it('survives a server restart mid-stream: every fact stored exactly once, seqs gapless', async () => {
    const accounts = [nextAccount(), nextAccount()];
    const p = publisher({ publishTimeoutMs: 1_000 });
    await p.adopt(accounts);
    let i = 0;
    const emit = () => {
      for (const a of accounts) p.sink(inbound(a, i));
      i++;
    };
    const timer = setInterval(() => {
      for (let k = 0; k < 5; k++) emit();
    }, 2);
    try {
      await until('some facts to be published before the restart', () => p.counters.published > 100);
      const reconnected = nextStatus(nc, 'reconnect', 20_000);
      await server.restart();
      await reconnected;
      const after = i;
      await until('facts emitted after the restart', () => i > after + 200);
    } finally {
      clearInterval(timer);
    }
    expect(await p.flushed(undefined, 20_000)).toBe(true);
    for (const a of accounts) expect(await inboundOrder(a)).toEqual([...Array(i).keys()]);
    expect(p.counters.dropped).toBe(0);
    // The restart was felt: publishes failed and were retried under their msg ids.
    expect(p.counters.publishFailures).toBeGreaterThan(0);
    const info = await jsm.streams.info(EVENTS_STREAM);
    expect(info.state.messages).toBeGreaterThan(0);
    await p.close();
  });
});
