// Webhook delivery against a real nats-server and a real HTTP receiver that verifies
// signatures with the standardwebhooks library: ordering per account, retries through
// failures and an outage, dead letters, and resuming after a restart.
import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { webhookEndpointSchema, type WebhookEndpointConfig } from '../../src/config/schema.js';
import { encodeEvent, evtSubject, makeEvent } from '../../src/contract/index.js';
import type { FactOf } from '../../src/runtime/port.js';
import { DEFAULT_STREAM_SETTINGS, ensureStream } from '../../src/nats/stream.js';
import { Sender } from '../../src/webhooks/http.js';
import { WebhookService } from '../../src/webhooks/service.js';
import { Signer } from '../../src/webhooks/signing.js';
import { capturingLogger, silent } from '../support/loggers.js';
import { connectTo, nextStatus, startNatsServer, type NatsServer } from '../support/nats-server.js';
import { prng } from '../support/random.js';
import { until } from '../support/waiters.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';

let nats: NatsServer;
let nc: NatsConnection;
let js: JetStreamClient;
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connectTo(nats.url);
  js = jetstream(nc);
  await ensureStream(await jetstreamManager(nc), DEFAULT_STREAM_SETTINGS, silent);
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;
/** Per account: the next seq to publish (accounts are unique per test). */
const seqs = new Map<string, number>();

async function publish(account: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const seq = (seqs.get(account) ?? 0) + 1;
    seqs.set(account, seq);
    const event = makeEvent(
      'message.in',
      { account, seq, at: new Date() },
      {
        waMessageId: `M${seq}`,
        from: 'x@s.whatsapp.net',
        chat: 'x@s.whatsapp.net',
        text: 'hello',
        timestamp: new Date().toISOString(),
      },
    );
    await js.publish(evtSubject(account, 'message.in'), encodeEvent(event));
  }
}

function endpoint(id: string, url: string, key: string, extra: Record<string, unknown> = {}): WebhookEndpointConfig {
  // Small backoffs and a short timeout: the test is about behaviour, not patience.
  return webhookEndpointSchema.parse({
    id,
    url,
    secret: key,
    timeoutMs: 300,
    concurrency: 5,
    retry: { attempts: 1000, baseMs: 5, capMs: 40 },
    ...extra,
  });
}

async function start(
  endpoints: WebhookEndpointConfig[],
  deadLetters: FactOf<'webhook.dead_lettered'>[] = [],
  ackWaitMs = 1_500,
): Promise<WebhookService> {
  const service = await WebhookService.start({
    nc,
    logger: silent,
    endpoints,
    allowPrivateAddresses: true,
    ackWaitMs,
    deadLetter: (f) => deadLetters.push(f),
  });
  cleanup.push(() => service.close());
  return service;
}

async function receiver(key: string): Promise<Receiver> {
  const r = await startReceiver(key);
  cleanup.push(() => r.close());
  return r;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('webhook delivery', () => {
  it('1,000 events over 5 accounts through a receiver failing 30% and down for a while: all arrive, in order per account, signed', async () => {
    const key = secret();
    const r = await receiver(key);
    const random = prng(17);
    let down = false;
    let refusedWhileDown = 0;
    r.behave = () => {
      if (down) {
        refusedWhileDown++;
        return { kind: 'reset' };
      }
      const x = random();
      if (x < 0.1) return { kind: 'status', status: 500 };
      if (x < 0.2) return { kind: 'reset' };
      if (x < 0.3) return { kind: 'slow', ms: 400 };
      return { kind: 'ok' };
    };
    await start([endpoint('chaos', r.url, key)]);
    const accounts = ['c1', 'c2', 'c3', 'c4', 'c5'];
    const published = Promise.all(accounts.map((a) => publish(a, 200)));
    await until('a third delivered', () => r.unique.length >= 300, 30_000);
    // Down for a while: long enough that every account retried through it several times.
    down = true;
    await until('retries through the outage', () => refusedWhileDown >= 40, 30_000);
    down = false;
    await published;
    await until(
      () => `all 1,000 delivered (${r.unique.length})`,
      () => r.unique.length === 1_000,
      45_000,
    );
    for (const a of accounts) expect(r.seqsOf(a)).toEqual(range(200));
    expect(r.orderViolations).toEqual([]);
    expect(r.badSignatures).toBe(0);
    expect(r.duplicates).toBeGreaterThan(0); // the slow answers were redelivered, and deduplicated by webhook-id
    expect(new Set(r.unique.map((x) => x.id)).size).toBe(1_000);
  }, 90_000);

  it('a receiver refusing one event with 400: it is dead-lettered at once, later events still arrive', async () => {
    const key = secret();
    const r = await receiver(key);
    r.behave = (x) => (x.account === 'd1' && x.seq === 3 ? { kind: 'status', status: 400 } : { kind: 'ok' });
    const deadLetters: FactOf<'webhook.dead_lettered'>[] = [];
    await start([endpoint('refuser', r.url, key)], deadLetters);
    await publish('d1', 6);
    await until('the later events', () => r.seqsOf('d1').length === 5);
    expect(r.seqsOf('d1')).toEqual([1, 2, 4, 5, 6]);
    expect(deadLetters).toEqual([
      expect.objectContaining({
        account: 'd1',
        type: 'webhook.dead_lettered',
        endpoint: 'refuser',
        eventSeq: 3,
        eventType: 'message.in',
        attempts: 1,
        status: 400,
        reason: 'http 400',
      }),
    ]);
  });

  it('retries a 429 after its Retry-After and a 503 with backoff; gives up after the retry budget', async () => {
    const key = secret();
    const r = await receiver(key);
    const tries = new Map<number, number>();
    r.behave = (x) => {
      const n = (tries.get(x.seq) ?? 0) + 1;
      tries.set(x.seq, n);
      if (x.seq === 1 && n === 1) return { kind: 'status', status: 429, headers: { 'retry-after': '1' } };
      if (x.seq === 2) return { kind: 'status', status: 503 };
      return { kind: 'ok' };
    };
    const deadLetters: FactOf<'webhook.dead_lettered'>[] = [];
    await start([endpoint('budget', r.url, key, { retry: { attempts: 3, baseMs: 5, capMs: 2_000 } })], deadLetters);
    const t0 = Date.now();
    await publish('r1', 3);
    await until('seq 3', () => r.seqsOf('r1').includes(3));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_000);
    expect(tries.get(1)).toBe(2);
    expect(tries.get(2)).toBe(3);
    expect(r.seqsOf('r1')).toEqual([1, 3]);
    expect(deadLetters).toEqual([expect.objectContaining({ eventSeq: 2, attempts: 3, status: 503 })]);
  });

  it('delivery resumes from the consumer position after the service is closed and started again', async () => {
    const key = secret();
    const r = await receiver(key);
    const ep = endpoint('restart', r.url, key);
    const first = await start([ep]);
    await publish('s1', 100);
    await until('some delivered', () => r.unique.length >= 20);
    await first.close();
    const before = r.unique.length;
    expect(before).toBeLessThan(100);
    const t0 = Date.now();
    await start([ep]);
    await publish('s1', 10);
    await until(
      () => `all delivered (${r.unique.length})`,
      () => r.unique.length === 110,
    );
    expect(r.seqsOf('s1')).toEqual(range(110));
    // A clean close handed its events back: no wait for the ack wait (1.5 s here).
    expect(Date.now() - t0).toBeLessThan(1_500);
    expect(r.orderViolations).toEqual([]);
  });

  it('a crash (no close) resumes after the ack wait, from the consumer position', async () => {
    const key = secret();
    const r = await receiver(key);
    let failing = true;
    r.behave = () => (failing ? { kind: 'status', status: 503 } : { kind: 'ok' });
    const ep = endpoint('crash', r.url, key);
    const ownNc = await connectTo(nats.url);
    const crashed = await WebhookService.start({
      nc: ownNc,
      logger: silent,
      endpoints: [ep],
      allowPrivateAddresses: true,
      ackWaitMs: 1_000,
      deadLetter: () => undefined,
    });
    await publish('k1', 30);
    await until('all held', () => crashed.runner('crash')?.held === 30);
    // The crash: the connection goes without a nak; the events wait out their ack wait.
    await ownNc.close();
    failing = false;
    await start([ep], [], 1_000);
    // New events of the same account while the crashed process's ones still wait out their ack wait.
    await publish('k1', 10);
    await until(
      () => `all delivered (${r.unique.length})`,
      () => r.unique.length === 40,
    );
    expect(r.seqsOf('k1')).toEqual(range(40));
    expect(r.orderViolations).toEqual([]);
    void crashed.close();
  });

  it('a NATS restart during delivery loses nothing', async () => {
    const key = secret();
    const r = await receiver(key);
    await start([endpoint('natsrestart', r.url, key)]);
    await publish('n1', 200);
    await until('some delivered', () => r.unique.length >= 10);
    const reconnected = nextStatus(nc, 'reconnect');
    await nats.restart();
    await reconnected;
    await publish('n1', 50);
    await until(
      () => `all delivered (${r.unique.length})`,
      () => r.unique.length === 250,
      30_000,
    );
    expect(r.seqsOf('n1')).toEqual(range(250));
    expect(r.orderViolations).toEqual([]);
  }, 60_000);
});

describe('the connection guard', () => {
  it("checks every connection's DNS answer: a name resolving to loopback is refused at connect time unless allowed", async () => {
    const key = secret();
    const r = await receiver(key);
    const byName = r.url.replace('127.0.0.1', 'localhost');
    // Signed with another key: the receiver, when reached, answers 401.
    const signed = new Signer(secret()).sign('evt_x_1', '{}', new Date());
    const guarded = new Sender(byName, false, 1);
    expect(await guarded.post(signed, 1_000)).toEqual({ kind: 'retry', reason: 'EADDRNOTALLOWED' });
    guarded.close();
    expect(r.requests).toBe(0);
    const open = new Sender(byName, true, 1);
    expect(await open.post(signed, 1_000)).toEqual({ kind: 'refused', status: 401, reason: 'http 401' });
    expect(r.badSignatures).toBe(1);
    open.close();
  });
});

describe('batch mode', () => {
  it('sends up to `batch` events of one account per request, in order, through failures; items deduplicated by id', async () => {
    const key = secret();
    const r = await receiver(key);
    const random = prng(5);
    r.behave = () => (random() < 0.3 ? { kind: 'status', status: 503 } : { kind: 'ok' });
    await start([endpoint('batched', r.url, key, { batch: 20 })]);
    await Promise.all([publish('b1', 150), publish('b2', 150)]);
    await until(
      () => `all delivered (${r.unique.length})`,
      () => r.unique.length === 300,
      30_000,
    );
    expect(r.seqsOf('b1')).toEqual(range(150));
    expect(r.seqsOf('b2')).toEqual(range(150));
    expect(r.orderViolations).toEqual([]);
    expect(r.badSignatures).toBe(0);
    expect(r.batches).toBeGreaterThan(0);
    expect(r.batches).toBeLessThan(300); // fewer requests than events
  });
});

describe('logs', () => {
  it('never carry the secret or message text, through retries and dead letters', async () => {
    const key = secret();
    const r = await receiver(key);
    let n = 0;
    r.behave = (x) =>
      x.seq === 2 ? { kind: 'status', status: 400 } : ++n % 2 === 0 ? { kind: 'status', status: 503 } : { kind: 'ok' };
    const { logger, lines } = capturingLogger();
    const service = await WebhookService.start({
      nc,
      logger,
      endpoints: [endpoint('logged', r.url, key)],
      allowPrivateAddresses: true,
      ackWaitMs: 1_500,
      deadLetter: () => undefined,
    });
    cleanup.push(() => service.close());
    await publish('l1', 5);
    await until('4 delivered', () => r.unique.length === 4);
    await service.close();
    const text = JSON.stringify(lines);
    expect(lines.some((l) => l.msg === 'webhook gave up on an event: dead-lettered')).toBe(true);
    expect(lines.some((l) => l.msg === 'webhook attempt failed: retrying')).toBe(true);
    expect(text).not.toContain(key);
    expect(text).not.toContain(key.slice('whsec_'.length));
    expect(text).not.toContain('hello'); // the events' text
  });
});

describe('a deleted consumer', () => {
  it('is re-created from where delivery was: later events still arrive, none skipped', async () => {
    const key = secret();
    const r = await receiver(key);
    await start([endpoint('deleted', r.url, key)]);
    await publish('x1', 20);
    await until('20 delivered', () => r.unique.length === 20);
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.delete('WA_EVENTS', 'wh_deleted');
    await publish('x1', 20);
    await until(
      () => `all 40 delivered (${r.unique.length})`,
      () => r.unique.length === 40,
      30_000,
    );
    expect(r.seqsOf('x1')).toEqual(range(40));
    expect(r.orderViolations).toEqual([]);
  }, 45_000);
});
