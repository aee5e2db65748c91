import { describe, expect, it } from 'vitest';
import { Inbound } from '../../src/runtime/inbound.js';
import type { Fact } from '../../src/runtime/port.js';

const base = { from: 'a@s.whatsapp.net', chat: 'a@s.whatsapp.net', timestamp: 1_700_000_000_000 };

function inbound() {
  const facts: Fact[] = [];
  return { facts, in: new Inbound('acc', (f) => facts.push(f)) };
}

describe('inbound messages that could not be decrypted', () => {
  it('are reported once, and the retried copy still arrives as one message.in', async () => {
    const t = inbound();
    t.in.failedToDecrypt({ ...base, waMessageId: 'X', reason: 'Bad MAC' });
    t.in.failedToDecrypt({ ...base, waMessageId: 'X', reason: 'Bad MAC' }); // Baileys' next failed retry
    t.in.received({ ...base, waMessageId: 'X', text: 'hi', delivery: 'notify' });
    t.in.received({ ...base, waMessageId: 'X', text: 'hi', delivery: 'append' }); // redelivered after a reconnect
    await t.in.settled();
    expect(t.facts.map((f) => f.type)).toEqual(['message.undecryptable', 'message.in']);
    expect(t.facts[0]).toMatchObject({ waMessageId: 'X', reason: 'Bad MAC', timestamp: '2023-11-14T22:13:20.000Z' });
  });

  it('are not reported after the id was delivered', async () => {
    const t = inbound();
    t.in.received({ ...base, waMessageId: 'Y', text: 'hi', delivery: 'notify' });
    t.in.failedToDecrypt({ ...base, waMessageId: 'Y', reason: 'No session record' });
    await t.in.settled();
    expect(t.facts.map((f) => f.type)).toEqual(['message.in']);
  });
});
