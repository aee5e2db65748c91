import { describe, expect, it } from 'vitest';
import type { Fact } from '../../src/runtime/port.js';
import { SendFacts } from '../../src/runtime/send-facts.js';

const record = () => {
  const facts: Fact[] = [];
  return { facts, sendFacts: new SendFacts('acc', (f) => facts.push(f)), types: () => facts.map((f) => f.type) };
};

describe('the facts of a send', () => {
  it('report sent when the write completes, then the ack', () => {
    const r = record();
    r.sendFacts.started('a', 'WA1');
    r.sendFacts.written('a');
    r.sendFacts.acked('a', 'server');
    expect(r.facts).toEqual([
      { account: 'acc', type: 'send.sent', id: 'a', waMessageId: 'WA1' },
      { account: 'acc', type: 'send.acked', id: 'a', ack: 'server' },
    ]);
  });

  it('report sent before an ack that overtook the write, and not again after it', () => {
    const r = record();
    r.sendFacts.started('a', 'WA1');
    r.sendFacts.acked('a', 'server');
    r.sendFacts.written('a');
    r.sendFacts.acked('a', 'delivered');
    expect(r.types()).toEqual(['send.sent', 'send.acked', 'send.acked']);
  });

  it('report no sent after the send failed or its write did', () => {
    const r = record();
    r.sendFacts.started('a', 'WA1');
    r.sendFacts.failed('a', { code: 'logged_out', message: 'logged out' });
    r.sendFacts.written('a');
    r.sendFacts.started('b', 'WA2');
    r.sendFacts.abandoned('b');
    r.sendFacts.written('b');
    expect(r.types()).toEqual(['send.failed']);
  });

  it('report a resend as sent again, with the same message id', () => {
    const r = record();
    for (let i = 0; i < 2; i++) {
      r.sendFacts.started('a', 'WA1');
      r.sendFacts.written('a');
    }
    expect(r.facts.filter((f) => f.type === 'send.sent')).toHaveLength(2);
  });
});
