/**
 * Consumers as outside clients: a plain NATS subscription on `wa.evt.>` and a durable
 * JetStream consumer reconstruct every account's state from the events alone, using
 * nothing but the contract (parseEvent, isFenceMarker) and their own fold.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cmdSubject,
  EVENTS_STREAM,
  evtFilter,
  isFenceMarker,
  parseEvent,
  retentionClass,
  WaError,
  type WaEvent,
} from '../../src/contract/index.js';
import { type NatsLayer, startNatsLayer } from '../../src/nats/layer.js';
import { connectTo, type NatsServer, startNatsServer } from '../support/nats-server.js';
import { FakeAccounts } from './fake-accounts.js';
import { request } from '../support/nats-client.js';
import { silent } from '../support/loggers.js';
import { until } from '../support/waiters.js';

let server: NatsServer;
let nc: NatsConnection;
let outside: NatsConnection;
let layer: NatsLayer;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  outside = await connectTo(server.url);
});
afterAll(async () => {
  await layer?.close();
  await Promise.all([nc?.close(), outside?.close()]);
  await server?.stop();
});

/**
 * What a consumer would keep per account: state, unsettled sends, inbound ids; checks seqs
 * as it goes, one sequence per retention class (records, liveness), as docs/subjects.md says.
 */
type Reconstructed = { state?: string; outbox: string[]; inbound: string[]; lastSeq: number; livenessSeq: number };

function fold(model: Map<string, Reconstructed>, e: WaEvent): void {
  const r = model.get(e.account) ?? { outbox: [], inbound: [], lastSeq: 0, livenessSeq: 0 };
  model.set(e.account, r);
  const key = retentionClass(e.type) === 'records' ? 'lastSeq' : 'livenessSeq';
  if (e.seq !== r[key] + 1) throw new Error(`${e.account}: ${key} ${e.seq} after ${r[key]}`);
  r[key] = e.seq;
  if (e.type === 'transition') r.state = e.to;
  if (e.type === 'send.queued') r.outbox.push(e.id);
  if (e.type === 'send.acked' || e.type === 'send.failed' || e.type === 'send.expired')
    r.outbox = r.outbox.filter((id) => id !== e.id);
  if (e.type === 'message.in') r.inbound.push(e.waMessageId);
}

function consume(model: Map<string, Reconstructed>, data: Uint8Array, headers: Msg['headers']): void {
  if (isFenceMarker(headers)) return;
  const e = parseEvent(data);
  if (e instanceof WaError) throw e;
  fold(model, e);
}

describe('when outside clients consume WA_EVENTS', () => {
  it("reconstruct every account's state from the events alone, live and from a durable consumer", async () => {
    const live = new Map<string, Reconstructed>();
    const sub = outside.subscribe(evtFilter(), {
      callback: (err, m) => (err ? undefined : consume(live, m.data, m.headers)),
    });

    const fake = new FakeAccounts({ autoAck: false });
    layer = await startNatsLayer({ nc, accounts: fake, logger: silent });
    fake.sink = layer.sink;
    const to = '+4915100000001';
    await layer.addAccount('shop', { connect: true });
    await layer.addAccount('support', { connect: false });
    for (let i = 0; i < 10; i++) {
      await request(nc, cmdSubject(i % 2 ? 'shop' : 'support', 'send'), { id: `o${i}`, to, text: `t${i}` });
      if (i % 3 === 0)
        fake.sink({
          account: 'shop',
          type: 'message.in',
          waMessageId: `in${i}`,
          from: '4915100000001@s.whatsapp.net',
          chat: '4915100000001@s.whatsapp.net',
          text: 'x',
          timestamp: new Date().toISOString(),
        });
    }
    fake.sink({ account: 'shop', type: 'send.acked', id: 'o1', ack: 'read' });
    fake.drop('shop');
    fake.connect('support');
    fake.sink({ account: 'support', type: 'send.acked', id: 'o0', ack: 'server' });
    await layer.publisher.flushed(undefined, 10_000);
    await outside.flush();

    // A durable consumer created afterwards reads the whole history.
    const jsm = await jetstreamManager(outside);
    await jsm.consumers.add(EVENTS_STREAM, {
      durable_name: 'outside-app',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: evtFilter(),
    });
    const durable = new Map<string, Reconstructed>();
    const consumer = await jetstream(outside).consumers.get(EVENTS_STREAM, 'outside-app');
    const messages = await consumer.consume();
    for await (const m of messages) {
      consume(durable, m.data, m.headers);
      m.ack();
      if (m.info.pending === 0) break;
    }

    await until(
      'the live subscription to catch up',
      () =>
        live.get('support')?.livenessSeq === layer.projection.view('support').livenessSeq &&
        live.get('shop')?.livenessSeq === layer.projection.view('shop').livenessSeq &&
        live.get('support')?.lastSeq === layer.projection.lastSeq('support') &&
        live.get('shop')?.lastSeq === layer.projection.lastSeq('shop'),
    );
    sub.unsubscribe();
    expect(durable).toEqual(live);
    for (const account of ['shop', 'support']) {
      const r = durable.get(account)!;
      expect(r.state).toBe(fake.state(account));
      expect(r.outbox).toEqual(layer.projection.outbox(account).map((q) => q.id));
      expect(r.lastSeq).toBe(layer.projection.lastSeq(account));
      expect(r.livenessSeq).toBe(layer.projection.view(account).livenessSeq);
    }
    expect(durable.get('shop')?.inbound).toEqual(['in0', 'in3', 'in6', 'in9']);
    expect(durable.get('shop')?.state).toBe('reconnecting');
  });
});
