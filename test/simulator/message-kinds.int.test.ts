// Every kind of message Baileys sends reaches the ledger with its fields; media is uploaded
// to the simulator's https host and the ledger's plaintext sha256 is what the simulator
// decrypted from that upload with the message's mediaKey.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AnyMessageContent, AuthenticationCreds } from '@whiskeysockets/baileys';
import type { LedgerEntry } from '../../src/simulator/index.js';
import {
  connectClient,
  controlApi,
  openProvisioned,
  simulatorPerFile,
  type TestClient,
} from '../support/simulator-client.js';
import { fromBufferJson, memoryAuth } from '../support/credentials.js';

const fx = simulatorPerFile();
const CONTACT = '15557770002';
const contactJid = `${CONTACT}@s.whatsapp.net`;
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function open(): Promise<{ client: TestClient; phone: string }> {
  const r = await openProvisioned(fx.sim);
  fx.clients.push(r.client);
  return r;
}

/** Sends, waits for the server's ack, returns the id and the ledger entry for it. */
async function sendAndRecord(
  client: TestClient,
  phone: string,
  content: AnyMessageContent,
  options: Parameters<TestClient['sock']['sendMessage']>[2] = {},
): Promise<{ id: string; entry: LedgerEntry }> {
  const sent = await client.sock.sendMessage(contactJid, content, options);
  const id = sent!.key.id!;
  await client.until(`ack of ${id}`, () => client.acks.find((a) => a.id === id));
  const entry = fx.sim.ledger({ account: phone }).find((e) => e.id === id);
  expect(entry, `ledger entry for ${id}`).toBeDefined();
  return { id, entry: entry! };
}

describe('when an account sends media', () => {
  it('records image caption, mimetype, size and the sha256 of the plaintext decrypted from the upload', async () => {
    const { client, phone } = await open();
    const bytes = randomBytes(50_000);
    const { entry } = await sendAndRecord(client, phone, {
      image: bytes,
      caption: 'a photo',
      mimetype: 'image/jpeg',
    });
    expect(entry).toMatchObject({
      kind: 'imageMessage',
      type: 'image',
      caption: 'a photo',
      mimetype: 'image/jpeg',
      fileLength: bytes.length,
      fileSha256: sha256(bytes),
      plainSha256: sha256(bytes),
      plainSize: bytes.length,
      decrypted: true,
      count: 1,
    });
    expect(entry.mediaError).toBeUndefined();
    expect(entry.directPath).toMatch(/^\/v\/t62\./);
    // One upload, attributed to the account through its media_conn auth.
    const uploads = await controlApi(fx.sim).uploads(phone);
    expect(uploads).toHaveLength(1);
    expect(uploads[0]).toMatchObject({ account: phone, pathType: 'image', directPath: entry.directPath });
    expect(uploads[0]?.encSha256).toBe(entry.fileEncSha256);
  });

  it('records video, voice note, document with file name and sticker, each decrypted', async () => {
    const { client, phone } = await open();
    const video = randomBytes(20_000);
    const voice = randomBytes(8_000);
    const doc = randomBytes(12_345);
    const sticker = randomBytes(3_000);
    const v = await sendAndRecord(client, phone, { video, caption: 'clip', mimetype: 'video/mp4' });
    const a = await sendAndRecord(client, phone, {
      audio: voice,
      ptt: true,
      mimetype: 'audio/ogg; codecs=opus',
      seconds: 3,
    });
    const d = await sendAndRecord(client, phone, {
      document: doc,
      fileName: 'report.pdf',
      mimetype: 'application/pdf',
      caption: 'the report',
    });
    const s = await sendAndRecord(client, phone, { sticker, mimetype: 'image/webp' });
    expect(v.entry).toMatchObject({
      type: 'video',
      caption: 'clip',
      mimetype: 'video/mp4',
      plainSha256: sha256(video),
    });
    expect(a.entry).toMatchObject({ type: 'audio', ptt: true, seconds: 3, plainSha256: sha256(voice) });
    expect(d.entry).toMatchObject({
      type: 'document',
      fileName: 'report.pdf',
      caption: 'the report',
      mimetype: 'application/pdf',
      fileLength: doc.length,
      plainSha256: sha256(doc),
    });
    expect(s.entry).toMatchObject({ type: 'sticker', mimetype: 'image/webp', plainSha256: sha256(sticker) });
  });
});

describe('when an account sends the other kinds', () => {
  it('records location, contact card, reply, reaction (and its removal), edit and revoke', async () => {
    const { client, phone } = await open();
    const loc = await sendAndRecord(client, phone, {
      location: { degreesLatitude: 52.52, degreesLongitude: 13.405, name: 'Berlin', address: 'Mitte' },
    });
    expect(loc.entry).toMatchObject({
      type: 'location',
      location: { latitude: 52.52, longitude: 13.405, name: 'Berlin', address: 'Mitte' },
    });

    const vcard = 'BEGIN:VCARD\nVERSION:3.0\nFN:Ada\nTEL;type=CELL;waid=15550001111:+1 555 000 1111\nEND:VCARD';
    const card = await sendAndRecord(client, phone, {
      contacts: { displayName: 'Ada', contacts: [{ displayName: 'Ada', vcard }] },
    });
    expect(card.entry).toMatchObject({ type: 'contact', contact: { displayName: 'Ada', vcard } });

    const original = await client.sock.sendMessage(contactJid, { text: 'original' });
    const originalId = original!.key.id!;
    const reply = await sendAndRecord(client, phone, { text: 'a reply' }, { quoted: original! });
    expect(reply.entry).toMatchObject({ type: 'text', text: 'a reply', quotedId: originalId });

    const react = await sendAndRecord(client, phone, { react: { text: '👍', key: original!.key } });
    expect(react.entry).toMatchObject({ type: 'reaction', reaction: { targetId: originalId, emoji: '👍' } });
    const unreact = await sendAndRecord(client, phone, { react: { text: '', key: original!.key } });
    expect(unreact.entry).toMatchObject({ type: 'reaction', reaction: { targetId: originalId, emoji: '' } });

    const edit = await sendAndRecord(client, phone, { text: 'edited', edit: original!.key });
    expect(edit.entry).toMatchObject({ type: 'edit', edit: { targetId: originalId, text: 'edited' } });

    const revoke = await sendAndRecord(client, phone, { delete: original!.key });
    expect(revoke.entry).toMatchObject({ type: 'revoke', revoke: { targetId: originalId } });

    // The original text is still one entry, and every kind above is its own entry.
    const entries = fx.sim.ledger({ account: phone });
    expect(entries.filter((e) => e.id === originalId)).toHaveLength(1);
    expect(entries.map((e) => e.type)).toEqual([
      'location',
      'contact',
      'text',
      'text',
      'reaction',
      'reaction',
      'edit',
      'revoke',
    ]);
  });
});

describe('the ledger media check', () => {
  it('reports a media message whose blob is not on the media host, or does not match its key', async () => {
    const { client, phone } = await open();
    const bytes = randomBytes(5_000);
    const good = await sendAndRecord(client, phone, { image: bytes, mimetype: 'image/jpeg' });
    const sent = fx.sim.ledger({ account: phone })[0]!;
    // The same blob announced with another mediaKey: the MAC cannot match.
    const wrongKey = await client.sock.relayMessage(
      contactJid,
      { imageMessage: { directPath: sent.directPath!, mediaKey: randomBytes(32), mimetype: 'image/jpeg' } },
      {},
    );
    const missing = await client.sock.relayMessage(
      contactJid,
      {
        imageMessage: {
          directPath: '/v/t62.7118-24/0_0_n.enc?ccb=11-4',
          mediaKey: randomBytes(32),
          mimetype: 'image/jpeg',
        },
      },
      {},
    );
    await client.until('acks', () =>
      [wrongKey, missing].every((id) => client.acks.some((a) => a.id === id)) ? true : undefined,
    );
    const byId = new Map(fx.sim.ledger({ account: phone }).map((e) => [e.id, e]));
    expect(byId.get(good.id)?.plainSha256).toBe(sha256(bytes));
    expect(byId.get(wrongKey)).toMatchObject({ type: 'image', mediaError: 'media MAC mismatch' });
    expect(byId.get(wrongKey)?.plainSha256).toBeUndefined();
    expect(byId.get(missing)).toMatchObject({ mediaError: 'blob not found on the media host' });
  });

  it('is never reached by a client that does not trust the media certificate: its upload fails', async () => {
    const p = fx.sim.provisionAccount();
    const auth = memoryAuth(fromBufferJson<AuthenticationCreds>(p.creds), fromBufferJson(p.keys));
    const client = connectClient({ wsUrl: fx.sim.wsUrl }, auth); // no caPem: no fetchAgent
    fx.clients.push(client);
    await client.open();
    await expect(client.sock.sendMessage(contactJid, { image: randomBytes(1_000) })).rejects.toThrow(
      /Media upload failed/,
    );
    expect(fx.sim.ledger({ account: p.account.phone })).toEqual([]);
  });
});

describe('the rejectUploads fault', () => {
  it("refuses the account's uploads with the status given: the send fails on the client, nothing is recorded", async () => {
    const { client, phone } = await open();
    fx.sim.setFaults({ rejectUploads: { status: 503 } }, phone);
    await expect(client.sock.sendMessage(contactJid, { image: randomBytes(2_000) })).rejects.toThrow(
      /Media upload failed/,
    );
    expect(fx.sim.mediaUploads(phone)).toEqual([]);
    expect(fx.sim.ledger({ account: phone })).toEqual([]);
    fx.sim.clearFaults(phone, ['rejectUploads']);
    const bytes = randomBytes(2_000);
    const { entry } = await sendAndRecord(client, phone, { image: bytes });
    expect(entry.plainSha256).toBe(sha256(bytes));
    expect(fx.sim.mediaUploads(phone)).toHaveLength(1);
  });
});
