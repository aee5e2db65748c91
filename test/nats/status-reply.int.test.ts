/**
 * The `status` reply reads the one status view: the runtime's state as its facts say,
 * not what an earlier process left in the stream.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { cmdSubject, statusReplySchema } from '../../src/contract/index.js';
import { startNatsLayer } from '../../src/nats/layer.js';
import { natsServerPerFile } from '../support/nats-server.js';
import { FakeAccounts } from './fake-accounts.js';
import { silent } from '../support/loggers.js';
import { request } from '../support/nats-client.js';

let nc: NatsConnection;

natsServerPerFile((_server, c) => {
  nc = c;
});

describe('when a gateway adds an account a previous process left open', () => {
  it('reports it stopped since it was added, with the disconnects the stream remembers', async () => {
    const account = 'again';
    const fake1 = new FakeAccounts();
    const first = await startNatsLayer({ nc, accounts: fake1, logger: silent, writerId: 'first' });
    fake1.sink = first.sink;
    await first.addAccount(account, { connect: true });
    fake1.drop(account, 408);
    fake1.connect(account);
    await first.publisher.flushed(account);
    const before = statusReplySchema.parse(await request(nc, cmdSubject(account, 'status')));
    expect(before).toMatchObject({ state: 'open', lastDisconnects: [{ statusCode: 408 }] });
    await first.close();

    const fake2 = new FakeAccounts();
    const second = await startNatsLayer({
      nc,
      accounts: fake2,
      logger: silent,
      writerId: 'second',
    });
    fake2.sink = second.sink;
    try {
      const added = Date.now();
      await second.addAccount(account, { connect: false });
      const after = statusReplySchema.parse(await request(nc, cmdSubject(account, 'status')));
      expect(after).toMatchObject({ state: 'stopped', lastDisconnects: [{ statusCode: 408 }] });
      expect(Date.parse(after.since)).toBeGreaterThanOrEqual(added);
      // Asked again, the same answer: since is when it stopped, not when it was asked.
      expect(statusReplySchema.parse(await request(nc, cmdSubject(account, 'status'))).since).toBe(after.since);
    } finally {
      await second.close();
    }
  });
});
