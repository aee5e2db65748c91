/**
 * A send's deadline on real Baileys against the simulator, with the accounts' time on a
 * manual clock: the deadline means "not later than handing it to WhatsApp", so a send
 * written before it passed is not recalled, even when a drop puts it back in the outbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { startHarness, type Harness } from '../support/runtime-harness.js';

const PEER = '4915100000001@s.whatsapp.net';
/** The server holds its ack back this long: the send stays in flight until the drop. */
const ACK_HELD_MS = 60_000;

describe('a send written to WhatsApp before its deadline', () => {
  let h: Harness;
  const clock = new ManualClock();
  beforeAll(async () => {
    h = await startHarness({}, {}, clock);
  });
  afterAll(async () => h?.close());

  it('is not recalled when the deadline passes while a drop holds it: it goes out again', async () => {
    const { phone } = await h.addAccount('d');
    await h.facts.entered('d', 'open');
    h.sim.setFaults({ ackLatencyMs: ACK_HELD_MS }, phone);
    const deadline = new Date(clock.now() + 1_000).toISOString();
    expect(h.gateway.submit('d', { id: 'w1', to: PEER, text: 'on time', deadline })).toBe('dispatched');
    await h.facts.until('send.sent', () => h.facts.of('send.sent', 'd').find((f) => f.id === 'w1'));

    h.sim.inject({ type: 'stream-error', code: 408 }, phone);
    await h.facts.until('reconnecting after 408', () => h.facts.transitions('d').find((t) => t.statusCode === 408));
    expect(h.gateway.runtime('d').snapshot().context.outbox).toEqual(['w1']);
    h.sim.clearFaults(phone);
    // Past the deadline (and the backoff): held now, but it was handed to WhatsApp before.
    clock.advance(1_000);
    expect(h.facts.of('send.expired', 'd')).toEqual([]);
    await h.facts.until('the resend acked', () => h.facts.of('send.acked', 'd').find((f) => f.id === 'w1'));
    expect(h.facts.of('send.expired', 'd')).toEqual([]);
    expect(h.sim.ledger().filter((e) => e.text === 'on time')).toHaveLength(1);
  });

  it('but one held and never written expires at its deadline', async () => {
    h.gateway.disconnect('d');
    await h.facts.entered('d', 'stopped');
    const deadline = new Date(clock.now() + 500).toISOString();
    expect(h.gateway.submit('d', { id: 'h1', to: PEER, text: 'too late', deadline })).toBe('held');
    clock.advance(500);
    expect(h.facts.of('send.expired', 'd').map((f) => f.id)).toEqual(['h1']);
  });
});
