import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultAction } from '../../src/simulator/index.js';
import { startHarness, type Harness } from '../support/runtime-harness.js';

/**
 * The disconnect policy applied to real closes: the simulator makes real Baileys close
 * with each status code, and the gateway's account ends where the policy says.
 */
describe('the disconnect policy on real closes', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  const recovering: { name: string; action: FaultAction; code: number; via: 'reconnecting' | 'connecting' }[] = [
    { name: '408 connectionLost', action: { type: 'stream-error', code: 408 }, code: 408, via: 'reconnecting' },
    { name: '428 connectionClosed (WebSocket close)', action: { type: 'close' }, code: 428, via: 'reconnecting' },
    { name: '500 badSession', action: { type: 'stream-error', code: 500 }, code: 500, via: 'reconnecting' },
    { name: 'an abrupt TCP close', action: { type: 'destroy' }, code: 428, via: 'reconnecting' },
    { name: '515 restartRequired, at once', action: { type: 'stream-error', code: 515 }, code: 515, via: 'connecting' },
  ];

  for (const [i, c] of recovering.entries()) {
    it(`recovers from ${c.name} through ${c.via}`, async () => {
      const account = `rec${i}`;
      const { phone } = await h.addAccount(account);
      await h.facts.entered(account, 'open');
      h.sim.inject(c.action, phone);
      await h.facts.entered(account, 'open', 2);
      const t = h.facts.transitions(account);
      const drop = t.findIndex((x) => x.statusCode === c.code);
      expect(drop, JSON.stringify(t)).toBeGreaterThan(0);
      expect(t[drop]!.to).toBe(c.via);
      expect(t.slice(drop).map((x) => x.to)).toEqual(
        c.via === 'reconnecting' ? ['reconnecting', 'connecting', 'open'] : ['connecting', 'open'],
      );
    });
  }

  it('stops on 440 and never fights the other client', async () => {
    const { phone } = await h.addAccount('replaced');
    await h.addAccount('bystander');
    await Promise.all([h.facts.entered('replaced', 'open'), h.facts.entered('bystander', 'open')]);
    const bystanderBefore = h.facts.transitions('bystander').filter((t) => t.from === 'connecting').length;
    h.sim.inject({ type: 'conflict' }, phone);
    await h.facts.entered('replaced', 'stopped');
    const attempts = () => h.facts.transitions('replaced').filter((t) => t.to === 'connecting').length;
    const attemptsAtStop = attempts();
    // Let several keepalive cycles of the other account pass: no attempt may follow.
    const cycles = h.facts.transitions('bystander').filter((t) => t.from === 'pinging').length;
    await h.facts.until('three bystander probes', () =>
      h.facts.transitions('bystander').filter((t) => t.from === 'pinging').length >= cycles + 3 ? true : undefined,
    );
    expect(attempts()).toBe(attemptsAtStop);
    expect(h.gateway.state('replaced')).toBe('stopped');
    expect(h.facts.transitions('replaced').at(-1)).toMatchObject({
      to: 'stopped',
      statusCode: 440,
      reason: 'connectionReplaced',
    });
    // The other account never noticed.
    expect(h.facts.transitions('bystander').filter((t) => t.from === 'connecting').length).toBe(bystanderBefore);
  });

  it('ends in loggedOut on 401 and keeps the credentials until an operator asks', async () => {
    const { phone } = await h.addAccount('unlinked');
    await h.facts.entered('unlinked', 'open');
    h.sim.inject({ type: 'failure', reason: 401 }, phone);
    await h.facts.entered('unlinked', 'loggedOut');
    expect(h.facts.of('logged_out', 'unlinked')).toEqual([
      { account: 'unlinked', type: 'logged_out', statusCode: 401 },
    ]);
    expect(h.gateway.runtime('unlinked').isPaired()).toBe(true);
    expect(h.gateway.submit('unlinked', { id: 'late', to: '4915100000001@s.whatsapp.net', text: 'x' })).toBe('refused');
    expect(h.facts.of('send.failed', 'unlinked')).toEqual([
      {
        account: 'unlinked',
        type: 'send.failed',
        id: 'late',
        error: { code: 'logged_out', message: expect.any(String) },
      },
    ]);
  });

  it('stops on 411 multideviceMismatch', async () => {
    const { phone } = await h.addAccount('mismatch');
    await h.facts.entered('mismatch', 'open');
    h.sim.inject({ type: 'stream-error', code: 411 }, phone);
    await h.facts.entered('mismatch', 'stopped');
    expect(h.facts.transitions('mismatch').at(-1)).toMatchObject({ statusCode: 411, reason: 'multideviceMismatch' });
  });

  it('backs off within the jittered ceiling while the server keeps refusing logins', async () => {
    const { phone } = await h.addAccount('refused', { connect: false });
    h.sim.setFaults({ loginFailure: { reason: 500 } }, phone);
    h.gateway.connect('refused');
    await h.facts.entered('refused', 'reconnecting', 4);
    h.gateway.disconnect('refused');
    expect(h.gateway.runtime('refused').snapshot().context.attempt).toBeGreaterThanOrEqual(4);
    const refusals = h.facts.transitions('refused').filter((t) => t.to === 'reconnecting');
    expect(refusals.length).toBeGreaterThanOrEqual(4);
    expect(refusals.slice(-4).every((t) => t.statusCode === 500)).toBe(true);
  });
});
