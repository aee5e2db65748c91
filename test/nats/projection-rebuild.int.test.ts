/**
 * Projections rebuilt from a stream a previous gateway wrote equal the projections
 * that gateway kept live while writing it.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { cmdSubject } from '../../src/contract/index.js';
import { startNatsLayer } from '../../src/nats/layer.js';
import type { Projection } from '../../src/nats/projection.js';
import { natsServerPerFile } from '../support/nats-server.js';
import { FakeAccounts } from './fake-accounts.js';
import { request } from '../support/nats-client.js';
import { silent } from '../support/loggers.js';

let nc: NatsConnection;

natsServerPerFile((_server, c) => {
  nc = c;
});

const snapshot = (p: Projection, account: string) => {
  const v = p.view(account);
  return { ...v, outbox: [...v.outbox.values()], sends: Object.fromEntries(v.sends) };
};

describe('when a gateway starts on a stream another instance wrote', () => {
  it('rebuilds status, outbox, idempotency index and last seq equal to the live projection', async () => {
    const accounts = ['alpha', 'beta'];
    const fake1 = new FakeAccounts({ autoAck: false });
    const first = await startNatsLayer({ nc, accounts: fake1, logger: silent, writerId: 'first' });
    fake1.sink = first.sink;
    for (const a of accounts) await first.addAccount(a, { connect: true });
    const to = '4915100000001@s.whatsapp.net';
    for (let i = 0; i < 20; i++) {
      const a = accounts[i % 2]!;
      await request(nc, cmdSubject(a, 'send'), { id: `s${i}`, to, text: `m${i}` });
      if (i % 3 === 0) fake1.sink({ account: a, type: 'send.acked', id: `s${i}`, ack: 'delivered' });
      if (i % 5 === 0)
        fake1.sink({ account: a, type: 'keepalive', probe: 'ping', outcome: i % 2 ? 'ok' : 'timeout', rttMs: i });
      if (i === 7) fake1.drop(a, 428);
      if (i === 9) fake1.disconnect(a);
    }
    fake1.sink({ account: 'alpha', type: 'send.failed', id: 's2', error: { code: 'internal', message: 'x' } });
    await first.publisher.flushed(undefined, 10_000);
    const live = accounts.map((a) => snapshot(first.projection, a));
    await first.close();

    const fake2 = new FakeAccounts({ autoAck: false });
    for (const a of accounts) fake2.preload(a);
    const second = await startNatsLayer({ nc, accounts: fake2, logger: silent, writerId: 'second' });
    fake2.sink = second.sink;
    try {
      expect(accounts.map((a) => snapshot(second.projection, a))).toEqual(live);
      // The outbox is queued minus settled, in order; what it handed to the runtime matches.
      expect(fake2.submits.map((s) => `${s.account}:${s.send.id}`)).toEqual(
        accounts.flatMap((a) => [...second.projection.view(a).outbox.keys()].map((id) => `${a}:${id}`)),
      );
      expect(live[0]?.outbox.length).toBeGreaterThan(0);
    } finally {
      await second.close();
    }
  });
});
