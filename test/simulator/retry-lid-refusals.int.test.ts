import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proto, type WAMessage } from '@whiskeysockets/baileys';
import { lidOf } from '../../src/simulator/accounts/jids.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { openProvisioned, startTrustedSimulator, type TestClient } from '../support/simulator-client.js';

let sim: RunningSimulator;
const clients: TestClient[] = [];

beforeAll(async () => {
  sim = await startTrustedSimulator();
});
afterAll(async () => {
  for (const c of clients) c.end();
  await sim.close();
});

async function open(): Promise<{ client: TestClient; phone: string }> {
  const r = await openProvisioned(sim);
  clients.push(r.client);
  return r;
}

const received = (client: TestClient, id: string): WAMessage[] =>
  client.upserts.flatMap((u) => u.messages).filter((m) => m.key.id === id);

describe('when the account cannot decrypt a contact message', () => {
  it('asks for it again with a retry receipt and gets an intact copy under the same id', async () => {
    const { client, phone } = await open();
    sim.setFaults({ undecryptableInbound: { count: 1 } }, phone);
    const { id } = sim.pushInbound({ account: phone, from: '15557771001', text: 'through the retry' });
    const decrypted = await client.until('the re-sent copy', () =>
      received(client, id).find((m) => m.message?.conversation === 'through the retry'),
    );
    const stubs = received(client, id).filter((m) => m.messageStubType === proto.WebMessageInfo.StubType.CIPHERTEXT);
    expect(stubs).toHaveLength(1);
    expect(stubs[0]?.messageStubParameters?.[0]).toBe('Bad MAC');
    expect(decrypted.key.id).toBe(id);
    // The fault was for one message: the next arrives at the first try.
    expect(sim.faults().accounts[phone]?.undecryptableInbound).toBeUndefined();
    const next = sim.pushInbound({ account: phone, from: '15557771001', text: 'plain' });
    await client.until('next message', () => received(client, next.id).find((m) => m.message?.conversation));
    expect(received(client, next.id)).toHaveLength(1);
  });

  it('delivers back-to-back prekey messages from a new contact when the first fails to decrypt', async () => {
    const { client, phone } = await open();
    sim.setFaults({ undecryptableInbound: { count: 1 } }, phone);
    const a = sim.pushInbound({ account: phone, from: '15557771002', text: 'one' });
    const b = sim.pushInbound({ account: phone, from: '15557771002', text: 'two' });
    const c = sim.pushInbound({ account: phone, from: '15557771002', text: 'three' });
    for (const [m, text] of [
      [a, 'one'],
      [b, 'two'],
      [c, 'three'],
    ] as const) {
      await client.until(`message ${text}`, () => received(client, m.id).find((x) => x.message?.conversation === text));
    }
    expect(received(client, a.id).filter((m) => m.messageStubType)).toHaveLength(1);
  });

  it('sends to a contact by its LID', async () => {
    const { client, phone } = await open();
    const contact = '15557771005';
    // The simulator knows a LID once its phone number was seen (it cannot invert one).
    sim.pushInbound({ account: phone, from: contact, text: 'hello' });
    const sent = await client.sock.sendMessage(`${lidOf(contact)}@lid`, { text: 'to a lid' });
    await client.until('ack', () => client.acks.find((x) => x.id === sent?.key.id));
    expect(sim.ledger({ account: phone, chat: `${contact}@s.whatsapp.net` })).toEqual([
      expect.objectContaining({ id: sent?.key.id, text: 'to a lid', decrypted: true }),
    ]);
  });
});

describe('when sends are refused', () => {
  it('refuses only sends to the given recipient, and only `count` of them', async () => {
    const { client, phone } = await open();
    sim.setFaults({ rejectSends: { error: '463', to: '15557771003', count: 1 } }, phone);
    const other = await client.sock.sendMessage('15557771004@s.whatsapp.net', { text: 'fine' });
    const refused = await client.sock.sendMessage('15557771003@s.whatsapp.net', { text: 'restricted' });
    await client.until('refusal', () => client.acks.find((x) => x.id === refused?.key.id));
    await client.until('other ack', () => client.acks.find((x) => x.id === other?.key.id));
    expect(client.acks.find((x) => x.id === refused?.key.id)?.error).toBe('463');
    expect(client.acks.find((x) => x.id === other?.key.id)?.error).toBeUndefined();
    expect(sim.faults().accounts[phone]?.rejectSends).toBeUndefined();
    const again = await client.sock.sendMessage('15557771003@s.whatsapp.net', { text: 'allowed now' });
    await client.until('later ack', () => client.acks.find((x) => x.id === again?.key.id));
    expect(client.acks.find((x) => x.id === again?.key.id)?.error).toBeUndefined();
  });
});
