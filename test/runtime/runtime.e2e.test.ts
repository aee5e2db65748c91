import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/runtime-harness.js';

const PEER = '4915100000001@s.whatsapp.net';

describe('an account on real Baileys against the simulator', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it('connects to open and publishes the transitions', async () => {
    await h.addAccount('alice');
    await h.facts.entered('alice', 'open');
    expect(h.facts.transitions('alice').slice(0, 2)).toEqual([
      { from: 'stopped', to: 'connecting', reason: 'operatorConnect' },
      { from: 'connecting', to: 'open', reason: 'loggedIn' },
    ]);
  });

  it('sends a message that the simulator decrypts and acknowledges once', async () => {
    expect(h.gateway.submit('alice', { id: 'hello-1', to: PEER, text: 'hello' })).toBe('dispatched');
    await h.facts.until('server ack', () => h.facts.of('send.acked', 'alice').find((f) => f.id === 'hello-1'));
    const entries = h.sim.ledger({ account: h.sim.accounts().find(() => true)!.phone });
    const mine = entries.filter((e) => e.text === 'hello');
    expect(mine).toHaveLength(1);
    expect(mine[0]!.count).toBe(1);
    const sent = h.facts.of('send.sent', 'alice').find((f) => f.id === 'hello-1');
    expect(mine[0]!.id).toBe(sent!.waMessageId);
  });

  it('puts a burst of sends on the wire in the order they were submitted', async () => {
    const chat = '4915100000009@s.whatsapp.net';
    const ids = Array.from({ length: 40 }, (_, i) => `burst-${i}`);
    for (const id of ids) h.gateway.submit('alice', { id, to: chat, text: id });
    await h.facts.until('all acked', () =>
      ids.every((id) => h.facts.of('send.acked', 'alice').some((f) => f.id === id && f.ack === 'server'))
        ? true
        : undefined,
    );
    const received = h.sim.ledger({ chat: '4915100000009@s.whatsapp.net' }).sort((a, b) => a.chatSeq - b.chatSeq);
    expect(received.map((e) => e.text)).toEqual(ids);
  });

  it('keeps the link alive with probes: open → idle → pinging → open', async () => {
    const before = h.facts.transitions('alice').filter((t) => t.from === 'pinging' && t.to === 'open').length;
    await h.facts.until('a probe answered', () =>
      h.facts.transitions('alice').filter((t) => t.from === 'pinging' && t.to === 'open').length > before
        ? true
        : undefined,
    );
  });

  it('reconnects after a 408 and delivers a send issued during the drop exactly once', async () => {
    const opens = h.facts.transitions('alice').filter((t) => t.to === 'open').length;
    h.sim.inject({ type: 'stream-error', code: 408 });
    await h.facts.until('reconnecting after 408', () =>
      h.facts.transitions('alice').find((t) => t.statusCode === 408 && t.to === 'reconnecting'),
    );
    expect(h.gateway.submit('alice', { id: 'during-drop', to: PEER, text: 'during drop' })).toBe('held');
    await h.facts.entered('alice', 'open', opens + 1);
    await h.facts.until('ack of the held send', () =>
      h.facts.of('send.acked', 'alice').find((f) => f.id === 'during-drop'),
    );
    const copies = h.sim.ledger().filter((e) => e.text === 'during drop');
    expect(copies).toHaveLength(1);
    expect(copies[0]!.count).toBe(1);
  });
});

describe('sends racing a drop', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it('never fail because the socket was closing: every send through ten 408s is acknowledged once', async () => {
    const { phone } = await h.addAccount('racer');
    await h.facts.entered('racer', 'open');
    let n = 0;
    const sent: string[] = [];
    for (let drop = 1; drop <= 10; drop++) {
      // A burst in flight at the very moment the server ends the stream.
      for (let i = 0; i < 5; i++) {
        const id = `race-${n++}`;
        sent.push(id);
        h.gateway.submit('racer', { id, to: PEER, text: id });
      }
      h.sim.inject({ type: 'stream-error', code: 408 }, phone);
      for (let i = 0; i < 5; i++) {
        const id = `race-${n++}`;
        sent.push(id);
        h.gateway.submit('racer', { id, to: PEER, text: id });
      }
      await h.facts.entered('racer', 'open', drop + 1);
    }
    await h.facts.until(
      'every send acknowledged',
      () =>
        sent.every((id) => h.facts.of('send.acked', 'racer').some((f) => f.id === id && f.ack === 'server'))
          ? true
          : undefined,
      20_000,
    );
    expect(h.facts.of('send.failed', 'racer')).toEqual([]);
    const ledger = h.sim.ledger({ account: phone });
    expect(new Set(ledger.filter((e) => e.text?.startsWith('race-')).map((e) => e.text)).size).toBe(sent.length);
  });
});
