/**
 * Retention classes (docs/architecture.md, "Retention classes"): keepalive churn, published
 * far beyond what the stream's byte limit holds, must not push sends out of the
 * idempotency window, and the status rebuilt after liveness was trimmed still finds the
 * account's last state. Time is scaled: a keepalive cycle's four facts are published
 * back to back instead of every ~7.5 s.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { cmdSubject, encodeEvent, makeEvent, sendReplySchema } from '../../src/contract/index.js';
import { type NatsLayer, startNatsLayer } from '../../src/nats/layer.js';
import type { Fact } from '../../src/runtime/port.js';
import { checkSequences, dumpStream, request } from '../support/nats-client.js';
import { connectTo, type NatsServer, startNatsServer } from '../support/nats-server.js';
import { silent } from '../support/loggers.js';
import { FakeAccounts } from './fake-accounts.js';

/** A small stream, so the soak overflows it several times. */
const MAX_BYTES = 128 * 1024;
/** Liveness kept per account and type in the soak. */
const KEEP = 20;
/** Sends whose ids must stay answerable. */
const SENDS = 30;
/** Keepalive cycles per account (open → idle → pinging → open, and the keepalive): ~75 min of real time. */
const CYCLES = 600;
const ACCOUNTS = ['soak', 'quiet'];
const to = '+49 151 0000 0001';

const opened: { server: NatsServer; nc: NatsConnection; layers: NatsLayer[] }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    for (const l of o.layers) await l.close();
    await o.nc.close();
    await o.server.stop();
  }
});

async function natsWithLayer(keep: number) {
  const server = await startNatsServer();
  const nc = await connectTo(server.url);
  const o = { server, nc, layers: [] as NatsLayer[] };
  opened.push(o);
  const start = async (fake: FakeAccounts) => {
    const layer = await startNatsLayer({
      nc,
      accounts: fake,
      logger: silent,
      stream: { maxBytes: MAX_BYTES, livenessPerSubject: keep },
    });
    fake.sink = layer.sink;
    o.layers.push(layer);
    return layer;
  };
  return { nc, start };
}

function keepaliveCycle(account: string): Fact[] {
  return [
    { account, type: 'transition', from: 'open', to: 'idle', event: 'IdleTimeout' },
    { account, type: 'transition', from: 'idle', to: 'pinging', event: 'KeepaliveDue' },
    { account, type: 'keepalive', probe: 'ping', outcome: 'ok', rttMs: 12, loopDelayMs: 1 },
    { account, type: 'transition', from: 'pinging', to: 'open', event: 'PingAnswered' },
  ];
}

/** Bytes of the keepalive churn as stored (body only; headers add more). */
function churnBytes(cycles: number, accounts: number): number {
  const one = keepaliveCycle('soak').reduce((n, f) => {
    const { account, type, ...body } = f;
    return n + encodeEvent(makeEvent(type, { account, seq: 1, at: new Date() }, body as never)).length;
  }, 0);
  return one * cycles * accounts;
}

/** Sends, then keepalive-only churn on every account; returns the first replies. */
async function soak(nc: NatsConnection, layer: NatsLayer, fake: FakeAccounts) {
  for (const a of ACCOUNTS) await layer.addAccount(a, { connect: true });
  const first = new Map<string, { seq: number }>();
  for (let i = 0; i < SENDS; i++) {
    const reply = sendReplySchema.parse(
      await request(nc, cmdSubject('soak', 'send'), { id: `s${i}`, to, text: `t${i}` }),
    );
    first.set(`s${i}`, reply);
  }
  for (let c = 0; c < CYCLES; c++) {
    for (const a of ACCOUNTS) for (const f of keepaliveCycle(a)) fake.sink(f);
    // Well inside the offline buffer's bound, so nothing is evicted before NATS has it.
    if (c % 100 === 99) expect(await layer.publisher.flushed(undefined, 30_000)).toBe(true);
  }
  expect(await layer.publisher.flushed(undefined, 30_000)).toBe(true);
  return first;
}

/** A new gateway process on the same stream: repeats every send id and says which were answered from the index. */
async function repeatAll(nc: NatsConnection, start: (f: FakeAccounts) => Promise<NatsLayer>) {
  const fake = new FakeAccounts();
  const layer = await start(fake);
  await layer.addAccount('soak', { connect: true });
  const replies = new Map<string, { status: string; seq: number }>();
  for (let i = 0; i < SENDS; i++) {
    const reply = sendReplySchema.parse(
      await request(nc, cmdSubject('soak', 'send'), { id: `s${i}`, to, text: `t${i}` }),
    );
    replies.set(`s${i}`, reply);
  }
  return { fake, layer, replies };
}

describe('when keepalive churn overflows the stream many times', () => {
  it('answers every send id from the index: the original seq and outcome, no second message', async () => {
    // The churn alone is several times what the stream may hold: without trimming, records would go.
    expect(churnBytes(CYCLES, ACCOUNTS.length)).toBeGreaterThan(4 * MAX_BYTES);
    const { nc, start } = await natsWithLayer(KEEP);
    const fake = new FakeAccounts();
    const layer = await start(fake);
    const first = await soak(nc, layer, fake);
    expect(layer.counters.livenessTrimmed).toBeGreaterThan(0);
    await layer.close();

    const again = await repeatAll(nc, start);
    for (const [id, reply] of again.replies)
      expect(reply, id).toMatchObject({ status: 'acked', seq: first.get(id)?.seq });
    // Nothing went to the runtime a second time.
    expect(again.fake.submits).toEqual([]);
    const dump = await dumpStream(nc);
    const queued = dump.events.filter((e) => e.event.account === 'soak' && e.event.type === 'send.queued');
    expect(queued).toHaveLength(SENDS);
    // Records are gapless from 1 however much liveness was trimmed around them.
    checkSequences(dump.events, true);
    const records = dump.events.filter((e) => e.event.account === 'soak' && e.event.type.startsWith('send.'));
    expect(records[0]?.event.seq).toBe(1);
  });

  it('forgets the first sends when liveness is not trimmed (the same soak, livenessPerSubject above the churn)', async () => {
    const { nc, start } = await natsWithLayer(1_000_000);
    const fake = new FakeAccounts();
    const layer = await start(fake);
    await soak(nc, layer, fake);
    await layer.close();
    const again = await repeatAll(nc, start);
    // The byte limit pushed the oldest send.queued out: the same id is a new send now.
    expect(again.replies.get('s0')?.status).toBe('queued');
    expect(again.fake.submits.length).toBeGreaterThan(0);
  });
});

describe('when liveness was trimmed', () => {
  it("rebuilds the account's last state and its last disconnect from what is left", async () => {
    const { nc, start } = await natsWithLayer(KEEP);
    const fake = new FakeAccounts();
    const layer = await start(fake);
    await layer.addAccount('soak', { connect: true });
    fake.drop('soak', 428);
    fake.connect('soak');
    for (let c = 0; c < 5 * KEEP; c++) for (const f of keepaliveCycle('soak')) fake.sink(f);
    fake.drop('soak', 408);
    expect(await layer.publisher.flushed(undefined, 30_000)).toBe(true);
    await layer.close();

    const dump = await dumpStream(nc);
    const transitions = dump.events.filter((e) => e.event.type === 'transition');
    // Trimmed: the first transitions (and the 428) are gone, the last ones kept.
    expect(transitions.length).toBeLessThanOrEqual(KEEP * 1.5 + 1);
    expect(transitions[0]?.event.seq).toBeGreaterThan(1);

    // A new process rebuilds the account from the stream alone.
    const fake2 = new FakeAccounts();
    const second = await start(fake2);
    await second.publisher.adopt(['soak']);
    expect(second.projection.status('soak')).toMatchObject({
      state: 'reconnecting',
      lastDisconnects: [{ statusCode: 408 }],
      keepalive: { lastRttMs: 12 },
    });
  });
});
