// Contacts send every kind (POST /inbound): Baileys receives them in messages.upsert with the
// right content, downloads and decrypts a contact's media from the simulator's https host,
// and the ledger's inbound view records what was pushed.
import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { downloadMediaMessage, proto, type WAMessage } from '@whiskeysockets/baileys';
import {
  controlApi,
  openProvisioned,
  reconnect,
  simulatorPerFile,
  trustMediaCertificate,
  type TestClient,
} from '../support/simulator-client.js';

const fx = simulatorPerFile();
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

beforeAll(() => {
  // Baileys downloads with the global fetch, which takes no agent: trust the simulator's
  // certificate in this (test) process, in addition to the default CAs.
  trustMediaCertificate(fx.sim);
});

async function open(): Promise<{ client: TestClient; phone: string }> {
  const r = await openProvisioned(fx.sim, { preKeys: 5 });
  fx.clients.push(r.client);
  return r;
}

/** Pushes through the control API (as an out-of-process client would) and waits for the upsert. */
async function push(
  client: TestClient,
  req: Parameters<ReturnType<typeof controlApi>['inbound']>[0],
): Promise<WAMessage> {
  const { id, status } = await controlApi(fx.sim).inbound(req);
  expect(status).toBe('sent');
  return client.until(`upsert of ${id}`, () => client.upserts.flatMap((u) => u.messages).find((m) => m.key.id === id));
}

describe('when a contact sends media', () => {
  it('Baileys downloads and decrypts exactly the bytes given to the simulator', async () => {
    const { client, phone } = await open();
    const bytes = randomBytes(70_001);
    const msg = await push(client, {
      account: phone,
      from: '15557770010',
      media: { type: 'image', data: bytes, caption: 'look', mimetype: 'image/png' },
    });
    const image = msg.message?.imageMessage;
    expect(image).toMatchObject({ caption: 'look', mimetype: 'image/png' });
    expect(image?.url).toContain(new URL(fx.sim.mediaUrl).host);
    const downloaded = await downloadMediaMessage(msg, 'buffer', {});
    expect(sha256(downloaded)).toBe(sha256(bytes));
    const [entry] = await controlApi(fx.sim).ledger({ account: phone, direction: 'in' });
    expect(entry).toMatchObject({
      direction: 'in',
      id: msg.key.id,
      chat: '15557770010@s.whatsapp.net',
      type: 'image',
      caption: 'look',
      fileLength: bytes.length,
      plainSha256: sha256(bytes),
    });
  });

  it('sends a document with its file name and a voice note, both downloadable', async () => {
    const { client, phone } = await open();
    const doc = randomBytes(4_321);
    const voice = randomBytes(2_000);
    const d = await push(client, {
      account: phone,
      from: '15557770011',
      media: { type: 'document', data: doc, fileName: 'a.pdf', mimetype: 'application/pdf' },
    });
    expect(d.message?.documentMessage?.fileName).toBe('a.pdf');
    expect(sha256(await downloadMediaMessage(d, 'buffer', {}))).toBe(sha256(doc));
    const a = await push(client, {
      account: phone,
      from: '15557770011',
      media: { type: 'audio', data: voice, ptt: true, seconds: 2 },
    });
    expect(a.message?.audioMessage).toMatchObject({ ptt: true, seconds: 2 });
    expect(sha256(await downloadMediaMessage(a, 'buffer', {}))).toBe(sha256(voice));
  });
});

describe('when a contact sends media to an account that is offline', () => {
  it('is queued, delivered on the next login as append, and still downloadable', async () => {
    const { client, phone } = await open();
    client.end();
    await client.closed();
    const bytes = randomBytes(9_999);
    const { id, status } = fx.sim.pushInbound({
      account: phone,
      from: '15557770014',
      media: { type: 'video', data: bytes, caption: 'later' },
    });
    expect(status).toBe('queued');
    const again = reconnect(fx.sim, client);
    fx.clients.push(again);
    await again.open();
    const upsert = await again.until('offline upsert', () =>
      again.upserts.find((u) => u.messages.some((m) => m.key.id === id)),
    );
    expect(upsert.type).toBe('append');
    const msg = upsert.messages.find((m) => m.key.id === id)!;
    expect(msg.message?.videoMessage?.caption).toBe('later');
    expect(sha256(await downloadMediaMessage(msg, 'buffer', {}))).toBe(sha256(bytes));
  });
});

describe('when a contact replies, reacts, edits and revokes', () => {
  it('each reaches messages.upsert with the right protocol content and is in the inbound ledger', async () => {
    const { client, phone } = await open();
    const from = '15557770012';
    const mine = (await client.sock.sendMessage(`${from}@s.whatsapp.net`, { text: 'to the contact' }))!.key.id!;
    await client.until('ack', () => client.acks.find((a) => a.id === mine));
    const theirs = await push(client, { account: phone, from, text: 'first' });

    const reply = await push(client, { account: phone, from, text: 'a reply', quotedId: mine });
    expect(reply.message?.extendedTextMessage).toMatchObject({ text: 'a reply', contextInfo: { stanzaId: mine } });

    const react = await push(client, { account: phone, from, reaction: { targetId: mine, emoji: '❤️' } });
    expect(react.message?.reactionMessage).toMatchObject({ text: '❤️', key: { id: mine } });
    const unreact = await push(client, { account: phone, from, reaction: { targetId: mine, emoji: '' } });
    expect(unreact.message?.reactionMessage?.text).toBe('');

    const edit = await push(client, { account: phone, from, edit: { targetId: theirs.key.id!, text: 'first!' } });
    expect(edit.message?.protocolMessage).toMatchObject({
      type: proto.Message.ProtocolMessage.Type.MESSAGE_EDIT,
      key: { id: theirs.key.id },
      editedMessage: { conversation: 'first!' },
    });

    const revoke = await push(client, { account: phone, from, revoke: { targetId: theirs.key.id! } });
    expect(revoke.message?.protocolMessage).toMatchObject({
      type: proto.Message.ProtocolMessage.Type.REVOKE,
      key: { id: theirs.key.id },
    });

    const location = await push(client, {
      account: phone,
      from,
      location: { latitude: 48.1, longitude: 11.6, name: 'Munich' },
    });
    expect(location.message?.locationMessage).toMatchObject({ degreesLatitude: 48.1, degreesLongitude: 11.6 });
    const vcard = 'BEGIN:VCARD\nVERSION:3.0\nFN:Bob\nEND:VCARD';
    const card = await push(client, { account: phone, from, contact: { displayName: 'Bob', vcard } });
    expect(card.message?.contactMessage).toMatchObject({ displayName: 'Bob', vcard });

    const entries = await controlApi(fx.sim).ledger({ account: phone, direction: 'in' });
    expect(entries.map((e) => e.type)).toEqual([
      'text',
      'text',
      'reaction',
      'reaction',
      'edit',
      'revoke',
      'location',
      'contact',
    ]);
    expect(entries[1]).toMatchObject({ quotedId: mine });
    expect(entries[4]).toMatchObject({ edit: { targetId: theirs.key.id, text: 'first!' } });
    expect(entries[5]).toMatchObject({ revoke: { targetId: theirs.key.id } });
    // The outbound view is unchanged by what contacts pushed.
    expect((await controlApi(fx.sim).ledger({ account: phone })).map((e) => e.id)).toEqual([mine]);
  });

  it('refuses a request with no kind or two kinds, naming the problem', async () => {
    const { phone } = await open();
    const api = controlApi(fx.sim);
    const none = await api.call('POST', '/inbound', { account: phone, from: '15557770013' });
    expect(none.status).toBe(400);
    expect(none.body.error?.message).toMatch(/exactly one/);
    const two = await api.call('POST', '/inbound', {
      account: phone,
      from: '15557770013',
      text: 'x',
      revoke: { targetId: 'ABCD' },
    });
    expect(two.status).toBe(400);
    const badQuote = await api.call('POST', '/inbound', {
      account: phone,
      from: '15557770013',
      reaction: { targetId: 'ABCD', emoji: 'x' },
      quotedId: 'ABCD',
    });
    expect(badQuote.status).toBe(400);
  });
});
