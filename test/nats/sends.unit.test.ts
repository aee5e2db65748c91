/**
 * The send path when the event stream does not acknowledge in time. The publisher is
 * a stub here (its tickets are resolved by hand): what is under test is what the
 * client is told and when the runtime gets the send, not NATS.
 */
import { describe, expect, it } from 'vitest';
import { makeEvent, WaError, type WaEvent } from '../../src/contract/index.js';
import type { EventPublisher, PublishTicket } from '../../src/nats/event-publisher.js';
import { Projection } from '../../src/nats/projection.js';
import { Sends } from '../../src/nats/sends.js';
import type { Fact } from '../../src/runtime/port.js';
import { FakeAccounts } from './fake-accounts.js';
import { silent } from '../support/loggers.js';
import { until } from '../support/waiters.js';

type Pending = { fact: Fact; resolve: (e: WaEvent) => void; reject: (e: WaError) => void; handedOver: boolean };

function setup(handedOver: boolean) {
  const pending: Pending[] = [];
  const projection = new Projection();
  const publisher = {
    sink: () => undefined,
    record(fact: Fact): PublishTicket {
      let p!: Pending;
      const acked = new Promise<WaEvent>((resolve, reject) => {
        p = { fact, resolve, reject, handedOver };
      });
      acked.catch(() => undefined);
      pending.push(p);
      return {
        acked,
        withdraw: () => {
          if (p.handedOver) return false;
          p.reject(new WaError('unavailable', 'withdrawn'));
          return true;
        },
      };
    },
  } as unknown as EventPublisher;
  const accounts = new FakeAccounts();
  accounts.preload('a', 'open');
  const sends = new Sends({ accounts, publisher, projection, logger: silent, recordTimeoutMs: 50 });
  /** What the real publisher does on an ack: apply to the projection, then resolve. */
  const ack = (p: Pending) => {
    const { account, type, ...body } = p.fact;
    const event = makeEvent(type, { account, seq: 1, at: new Date() }, body as never);
    projection.apply(event);
    p.resolve(event);
  };
  return { sends, accounts, pending, ack };
}

const cmd = {
  verb: 'send' as const,
  account: 'a',
  id: 's1',
  to: '4915100000001@s.whatsapp.net',
  content: { kind: 'text' as const, text: 'hi' },
};

describe('when send.queued is not acknowledged in time', () => {
  it('replies unavailable and withdraws it when it never reached NATS: nothing recorded, nothing sent', async () => {
    const { sends, accounts } = setup(false);
    const err = await sends.send(cmd).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/nothing was recorded/) });
    expect(accounts.submits).toHaveLength(0);
  });

  it('replies unavailable, then hands the send over once the ack comes, and a retry with the id gets its status', async () => {
    const { sends, accounts, pending, ack } = setup(true);
    const err = await sends.send(cmd).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/retry with the same id/) });
    // A retry while still unacknowledged waits on the same record: no second publish.
    const retry = sends.send(cmd).catch((e: unknown) => e);
    expect(pending).toHaveLength(1);
    ack(pending[0]!);
    await until('the late-recorded send to be handed over', () => accounts.submits.length === 1);
    expect(await retry).toMatchObject({ ok: true, id: 's1', seq: 1 });
    expect(await sends.send(cmd)).toMatchObject({ ok: true, id: 's1', seq: 1 });
    expect(accounts.submits).toHaveLength(1);
    expect(pending).toHaveLength(1);
  });

  it("replies with the publisher's error when the record is dropped", async () => {
    const { sends, pending } = setup(true);
    const reply = sends.send(cmd).catch((e: unknown) => e);
    pending[0]!.reject(new WaError('unavailable', 'the event buffer is full'));
    expect(await reply).toMatchObject({ code: 'unavailable', message: 'the event buffer is full' });
  });
});
