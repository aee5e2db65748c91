// A 402 temporary ban: no connect attempt until the ban's expiry, announced as
// `account.banned`, then a normal reconnect; 405 (client outdated) stops for good.
import { describe, expect, it } from 'vitest';
import { BAN_WITHOUT_EXPIRY_MS, type BanRecord } from '../../machines/index.js';
import { runAccount } from './harness.js';

function openAccount() {
  const run = runAccount({ timings: { backoffBaseMs: 250 } });
  const bans: BanRecord[] = [];
  run.actor.on('account.banned', (b) => bans.push(b));
  run.send({ type: 'Connect' });
  run.send({ type: 'SocketOpened', connectionId: 1, at: 1_000 });
  return { run, bans };
}

describe('when WhatsApp bans the account for a while (402)', () => {
  it('waits exactly until the expiry, says until when, then connects normally', () => {
    const { run, bans } = openAccount();
    run.send({ type: 'Send', id: 'held' });
    const step = run.send({
      type: 'SocketClosed',
      connectionId: 1,
      statusCode: 402,
      retryAfterMs: 7_200_000,
      banCode: 101,
      at: 5_000,
    });
    expect(run.state()).toBe('reconnecting');
    expect(step.records).toEqual([
      expect.objectContaining({ to: 'reconnecting', reason: 'temporarilyBanned', statusCode: 402 }),
    ]);
    expect(bans).toEqual([{ type: 'account.banned', untilMs: 7_205_000, statusCode: 402, banCode: 101 }]);
    // The wait is the ban's, through the runtime's timer (its clock), not a backoff.
    expect(run.armed()).toMatchObject({ name: 'backoff', ms: 7_200_000 });
    // The send in flight is held for after the ban, not failed.
    expect(run.snapshot().context.outbox).toEqual(['held']);
    run.fire({ at: 7_205_000 });
    expect(run.state()).toBe('connecting');
    // A fresh ladder afterwards: the next transient drop backs off from the first rung.
    run.send({ type: 'SocketClosed', connectionId: 2, statusCode: 408, at: 7_206_000 });
    expect(run.snapshot().context.attempt).toBe(1);
    expect(run.armed()!.ms).toBeLessThan(250);
  });

  it('waits an hour when the failure gives no expiry', () => {
    const { run, bans } = openAccount();
    run.send({ type: 'SocketClosed', connectionId: 1, statusCode: 402, at: 5_000 });
    expect(bans[0]?.untilMs).toBe(5_000 + BAN_WITHOUT_EXPIRY_MS);
    expect(run.armed()?.ms).toBe(BAN_WITHOUT_EXPIRY_MS);
  });

  it('lets an operator connect before the expiry', () => {
    const { run } = openAccount();
    run.send({ type: 'SocketClosed', connectionId: 1, statusCode: 402, retryAfterMs: 60_000, at: 5_000 });
    run.send({ type: 'Connect' });
    expect(run.state()).toBe('connecting');
  });
});

describe('when WhatsApp says the client is outdated (405)', () => {
  it('stops with reason clientOutdated and does not reconnect', () => {
    const { run } = openAccount();
    const step = run.send({ type: 'SocketClosed', connectionId: 1, statusCode: 405, at: 5_000 });
    expect(run.state()).toBe('stopped');
    expect(step.records).toEqual([
      expect.objectContaining({ to: 'stopped', reason: 'clientOutdated', statusCode: 405 }),
    ]);
    expect(run.armed()).toBeNull();
  });
});
