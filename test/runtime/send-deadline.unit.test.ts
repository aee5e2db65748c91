/**
 * Send deadlines, owned by the account runtime since the NATS layer hands a send down
 * once: timed on the runtime's injected clock (no real waiting here), decided by the
 * machine (a send still held expires; one handed to WhatsApp is not recalled).
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AccountRuntime } from '../../src/runtime/account-runtime.js';
import type { LoopMonitor } from '../../src/runtime/loop-monitor.js';
import type { Fact } from '../../src/runtime/port.js';
import { ManualClock } from '../support/manual-clock.js';
import { memoryAccountAuth } from '../support/runtime-harness.js';

const TO = '4915100000001@s.whatsapp.net';
const noStalls: LoopMonitor = { maxStallSince: () => 0 } as unknown as LoopMonitor;
const runtimes: AccountRuntime[] = [];

afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.stop(0);
});

/** A runtime that never connects: every send is held (or refused once logged out). */
function stoppedAccount() {
  const clock = new ManualClock(Date.parse('2026-01-01T12:00:00Z'));
  const facts: Fact[] = [];
  const runtime = new AccountRuntime({
    account: 'a',
    auth: memoryAccountAuth(),
    sink: (f) => facts.push(f),
    logger: pino({ level: 'silent' }),
    loop: noStalls,
    clock,
    seed: 1,
  });
  runtime.start();
  runtimes.push(runtime);
  const sendFacts = () => facts.filter((f) => f.type.startsWith('send.'));
  const inAt = (ms: number) => new Date(clock.now() + ms).toISOString();
  return { clock, runtime, sendFacts, inAt };
}

describe('a held send with a deadline', () => {
  it('expires when the deadline passes, not a millisecond before', () => {
    const { clock, runtime, sendFacts, inAt } = stoppedAccount();
    expect(runtime.submit({ id: 's1', to: TO, text: 'hi', deadline: inAt(1_000) })).toBe('held');
    clock.advance(999);
    expect(sendFacts()).toEqual([]);
    clock.advance(1);
    expect(sendFacts()).toEqual([{ account: 'a', type: 'send.expired', id: 's1' }]);
    expect(runtime.snapshot().context.outbox).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('expires alone: the sends around it stay held, in order', () => {
    const { clock, runtime, sendFacts, inAt } = stoppedAccount();
    runtime.submit({ id: 's1', to: TO, text: '1' });
    runtime.submit({ id: 's2', to: TO, text: '2', deadline: inAt(500) });
    runtime.submit({ id: 's3', to: TO, text: '3', deadline: inAt(60_000) });
    clock.advance(500);
    expect(sendFacts()).toEqual([{ account: 'a', type: 'send.expired', id: 's2' }]);
    expect(runtime.snapshot().context.outbox).toEqual(['s1', 's3']);
  });

  it('that had gone to WhatsApp before a restart (recovered with its waMessageId) is not recalled', () => {
    const { clock, runtime, sendFacts, inAt } = stoppedAccount();
    runtime.submit({ id: 's1', to: TO, text: 'hi', deadline: inAt(10), waMessageId: '3EB0AA' });
    clock.advance(60_000);
    expect(sendFacts()).toEqual([]);
    expect(runtime.snapshot().context.outbox).toEqual(['s1']);
  });

  it('leaves no timer behind when the send is refused (logged out) or the account stops', async () => {
    const { clock, runtime, sendFacts, inAt } = stoppedAccount();
    runtime.submit({ id: 'held', to: TO, text: 'x', deadline: inAt(60_000) });
    expect(clock.pending).toBe(1);
    await runtime.logout();
    expect(sendFacts().map((f) => `${f.type}:${'id' in f ? f.id : ''}`)).toEqual(['send.failed:held']);
    expect(clock.pending).toBe(0);
    expect(runtime.submit({ id: 'late', to: TO, text: 'x', deadline: inAt(60_000) })).toBe('refused');
    expect(clock.pending).toBe(0);
  });
});
