import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GroupParticipant } from '@whiskeysockets/baileys';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { openProvisioned, startTrustedSimulator, type TestClient } from '../support/simulator-client.js';

let sim: RunningSimulator;
const clients: TestClient[] = [];
const MEMBERS = ['15558880001', '15558880002', '15558880003'];

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

const deviceJids = (phones: string[]) => Object.fromEntries(phones.map((p) => [`${p}@s.whatsapp.net`, 1]));

describe.each(['lid', 'pn'] as const)('a %s-addressed group', (addressingMode) => {
  it('answers metadata and the participating list', async () => {
    const { client, phone } = await open();
    const group = sim.createGroup({
      subject: 'Alerts',
      participants: [phone, ...MEMBERS],
      admins: [MEMBERS[0]!],
      addressingMode,
    });
    const meta = await client.sock.groupMetadata(group.jid);
    expect(meta).toMatchObject({ id: group.jid, subject: 'Alerts', size: 4 });
    expect(meta.participants.filter((p: GroupParticipant) => p.admin).map((p: GroupParticipant) => p.admin)).toEqual([
      'superadmin',
      'admin',
    ]);
    const all = await client.sock.groupFetchAllParticipating();
    expect(Object.keys(all)).toEqual([group.jid]);
    const other = sim.createGroup({ subject: 'Not mine', participants: MEMBERS, addressingMode });
    await expect(client.sock.groupMetadata(other.jid)).rejects.toThrow();
  });

  it('decrypts a group send at every participant device once, with receipts per participant', async () => {
    const { client, phone } = await open();
    sim.setFaults({ receipts: { delivery: true, read: true, deliveryDelayMs: 0, readDelayMs: 0 } }, phone);
    const group = sim.createGroup({ subject: 'Fan-out', participants: [phone, ...MEMBERS], addressingMode });
    const receipts: { id: string; user: string; read: boolean }[] = [];
    client.sock.ev.on('message-receipt.update', (updates) => {
      for (const u of updates)
        receipts.push({
          id: u.key.id ?? '',
          user: u.receipt.userJid ?? '',
          read: u.receipt.readTimestamp !== undefined,
        });
    });
    const first = (await client.sock.sendMessage(group.jid, { text: 'to the group' }))!.key.id!;
    // The second send finds the sender key already distributed: skmsg only.
    const second = (await client.sock.sendMessage(group.jid, { text: 'again' }))!.key.id!;
    await client.until('acks', () =>
      [first, second].every((id) => client.acks.some((a) => a.id === id)) ? true : undefined,
    );
    const entries = sim.ledger({ account: phone, chat: group.jid });
    expect(entries.map((e) => [e.text, e.count])).toEqual([
      ['to the group', 1],
      ['again', 1],
    ]);
    // Every participant device, the account's own phone included, read each message once.
    for (const e of entries) expect(e.recipients).toEqual(deviceJids([phone, ...MEMBERS]));
    // Baileys' event buffer folds receipts into the upsert of our own message when both
    // are pending together: either place counts.
    const readers = () => {
      const users = new Set(receipts.filter((r) => r.id === first && r.read).map((r) => r.user));
      for (const u of client.upserts)
        for (const m of u.messages)
          if (m.key.id === first)
            for (const r of m.userReceipt ?? []) if (r.readTimestamp && r.userJid) users.add(r.userJid);
      return users;
    };
    await client.until('read receipts from every other participant', () =>
      readers().size >= MEMBERS.length ? true : undefined,
    );
    expect(readers().size).toBe(MEMBERS.length);
  });

  it('delivers a contact message to the group with its participant, and membership changes', async () => {
    const { client, phone } = await open();
    const group = sim.createGroup({ subject: 'Inbound', participants: [phone, ...MEMBERS], addressingMode });
    const changes: { id: string; action: string; participants: unknown[] }[] = [];
    client.sock.ev.on('group-participants.update', (u) => changes.push(u));
    const { id } = sim.pushInbound({ account: phone, from: MEMBERS[1]!, group: group.jid, text: 'hello group' });
    const second = sim.pushInbound({ account: phone, from: MEMBERS[1]!, group: group.jid, text: 'second' });
    const msgs = await client.until('both inbound', () => {
      const all = client.upserts.flatMap((u) => u.messages).filter((m) => m.key.remoteJid === group.jid && m.message);
      return all.length >= 2 ? all : undefined;
    });
    expect(msgs.map((m) => m.key.id)).toEqual([id, second.id]);
    expect(msgs.map((m) => m.message?.conversation)).toEqual(['hello group', 'second']);
    const sender = addressingMode === 'lid' ? msgs[0]!.key.participantAlt : msgs[0]!.key.participant;
    expect(sender).toBe(`${MEMBERS[1]}@s.whatsapp.net`);

    const r = sim.changeGroup({ group: group.jid, action: 'add', participants: ['15558880009'] });
    expect(r).toEqual({ changed: ['15558880009'], notified: [phone] });
    const change = await client.until('participants update', () => changes[0]);
    expect(change).toMatchObject({ id: group.jid, action: 'add' });
    expect(sim.groups().find((g) => g.jid === group.jid)?.participants).toHaveLength(5);
  });
});
