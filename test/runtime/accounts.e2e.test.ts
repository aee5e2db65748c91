import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/runtime-harness.js';

describe('many accounts in one process', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it('are added, stopped, started and removed at run time, each on its own', async () => {
    const names = ['a1', 'a2', 'a3', 'a4', 'a5'];
    const phones = new Map<string, string>();
    for (const n of names) phones.set(n, (await h.addAccount(n)).phone);
    await Promise.all(names.map((n) => h.facts.entered(n, 'open')));
    expect(
      h.gateway
        .list()
        .map((a) => a.account)
        .sort(),
    ).toEqual(names);

    // One is replaced (440), one is unlinked (401), one is stopped, one removed.
    h.sim.inject({ type: 'conflict' }, phones.get('a1'));
    h.sim.inject({ type: 'failure', reason: 401 }, phones.get('a2'));
    h.gateway.disconnect('a3');
    await h.gateway.remove('a4');
    await Promise.all([
      h.facts.entered('a1', 'stopped'),
      h.facts.entered('a2', 'loggedOut'),
      h.facts.entered('a3', 'stopped'),
    ]);
    expect(h.gateway.has('a4')).toBe(false);
    expect(() => h.gateway.state('a4')).toThrow(expect.objectContaining({ code: 'unknown_account' }));

    // The untouched account never left its first connection and still sends.
    expect(h.facts.transitions('a5').filter((t) => t.from === 'connecting' || t.to === 'reconnecting')).toHaveLength(1);
    expect(h.gateway.submit('a5', { id: 'still-fine', to: '4915100000001@s.whatsapp.net', text: 'fine' })).toBe(
      'dispatched',
    );
    await h.facts.until('ack', () => h.facts.of('send.acked', 'a5').find((f) => f.id === 'still-fine'));

    // A stopped account starts again on request.
    h.gateway.connect('a3');
    await h.facts.entered('a3', 'open', 2);
  });

  it('refuse a second add of the same id', async () => {
    await h.addAccount('twice', { connect: false });
    await expect(h.gateway.add('twice')).rejects.toMatchObject({ code: 'bad_request' });
  });
});
