import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proto } from '@whiskeysockets/baileys';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { openProvisioned, reconnect, startTrustedSimulator, type TestClient } from '../support/simulator-client.js';

let sim: RunningSimulator;
const clients: TestClient[] = [];
const CONTACT = '15557770001';
const contactJid = `${CONTACT}@s.whatsapp.net`;

beforeAll(async () => {
  sim = await startTrustedSimulator();
});
afterAll(async () => {
  for (const c of clients) c.end();
  await sim.close();
});

async function open(preKeys?: number): Promise<{ client: TestClient; phone: string }> {
  const r = await openProvisioned(sim, preKeys === undefined ? {} : { preKeys });
  clients.push(r.client);
  return r;
}

describe('when an account sends a text', () => {
  it('is decrypted, acked, receipted and recorded once', async () => {
    const { client, phone } = await open();
    const sent = await client.sock.sendMessage(contactJid, { text: 'hello simulator' });
    const id = sent?.key.id;
    expect(id).toBeTruthy();
    await client.until('server ack', () => client.acks.find((a) => a.id === id));
    await client.until('delivery receipt', () =>
      (client.statusOf(id!)?.status ?? 0) >= proto.WebMessageInfo.Status.DELIVERY_ACK ? true : undefined,
    );
    const entries = sim.ledger({ account: phone });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      id,
      chat: contactJid,
      text: 'hello simulator',
      decrypted: true,
      count: 1,
      chatSeq: 1,
    });
  });

  it('shows the same message id sent twice as one entry with count 2', async () => {
    const { client, phone } = await open();
    const first = await client.sock.sendMessage(contactJid, { text: 'once' });
    const id = first!.key.id!;
    await client.until('first ack', () => client.acks.find((a) => a.id === id));
    await client.sock.sendMessage(contactJid, { text: 'once' }, { messageId: id });
    await client.until('second ack', () => (client.acks.filter((a) => a.id === id).length === 2 ? true : undefined));
    const entries = sim.ledger({ account: phone, chat: contactJid });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ id, text: 'once', count: 2 });
  });

  it('keeps arrival order per chat across several sends', async () => {
    const { client, phone } = await open();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await client.sock.sendMessage(contactJid, { text: `n${i}` }))!.key.id!);
    await client.until('all acks', () => (ids.every((id) => client.acks.some((a) => a.id === id)) ? true : undefined));
    const entries = sim.ledger({ account: phone, chat: contactJid });
    expect(entries.map((e) => e.text)).toEqual(['n0', 'n1', 'n2', 'n3', 'n4']);
    expect(entries.map((e) => e.chatSeq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('reports read receipts and an error ack when configured', async () => {
    const { client, phone } = await open();
    sim.setFaults({ receipts: { delivery: true, read: true, deliveryDelayMs: 0, readDelayMs: 0 } }, phone);
    const ok = (await client.sock.sendMessage(contactJid, { text: 'read me' }))!.key.id!;
    await client.until('read receipt', () =>
      client.statusOf(ok)?.status === proto.WebMessageInfo.Status.READ ? true : undefined,
    );
    sim.setFaults({ rejectSends: { error: '479' } }, phone);
    const rejected = (await client.sock.sendMessage(contactJid, { text: 'nope' }))!.key.id!;
    const update = await client.until('error status', () =>
      client.statusOf(rejected)?.status === proto.WebMessageInfo.Status.ERROR ? client.statusOf(rejected) : undefined,
    );
    expect(update.params).toEqual(['479']);
    expect(sim.ledger({ account: phone }).map((e) => e.id)).toEqual([ok]);
    sim.clearFaults(phone);
  });
});

describe('when a contact writes to an account', () => {
  it('delivers inbound-first messages as notify', async () => {
    const { client, phone } = await open();
    const { id, status } = sim.pushInbound({ account: phone, from: '15557770002', text: 'hi from a contact' });
    expect(status).toBe('sent');
    const upsert = await client.until('inbound upsert', () =>
      client.upserts.find((u) => u.messages.some((m) => m.key.id === id)),
    );
    expect(upsert.type).toBe('notify');
    expect(upsert.messages[0]?.message?.conversation).toBe('hi from a contact');
    // The reply goes through the session the contact started.
    const reply = await client.sock.sendMessage('15557770002@s.whatsapp.net', { text: 'hi back' });
    await client.until('reply ack', () => client.acks.find((a) => a.id === reply?.key.id));
    expect(sim.ledger({ account: phone }).map((e) => e.text)).toEqual(['hi back']);
  });

  it('queues messages while disconnected and delivers them in order as append', async () => {
    const { client, phone } = await open();
    sim.inject({ type: 'close' }, phone);
    await client.closed();
    const ids = ['first', 'second', 'third'].map((text) =>
      sim.pushInbound({ account: phone, from: '15557770003', text }),
    );
    expect(ids.every((r) => r.status === 'queued')).toBe(true);
    const again = reconnect(sim, client);
    clients.push(again);
    await again.open();
    const got = await again.until('three offline messages', () => {
      const msgs = again.upserts.flatMap((u) =>
        u.messages.map((m) => ({ type: u.type, id: m.key.id, text: m.message?.conversation })),
      );
      return msgs.length >= 3 ? msgs : undefined;
    });
    expect(got.map((m) => m.text)).toEqual(['first', 'second', 'third']);
    expect(got.every((m) => m.type === 'append')).toBe(true);
    expect(sim.accounts().find((a) => a.phone === phone)?.queuedInbound).toBe(0);
  });
});
