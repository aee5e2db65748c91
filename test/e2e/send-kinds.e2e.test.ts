/**
 * Issue 13: every kind of message, end to end — the whole gateway in-process
 * (startGateway) against real Baileys, the simulator (which decrypts what it receives,
 * media included, into its ledger) and a real nats-server; media URLs from a real local
 * HTTP server. One gateway for the file, many kinds per gateway.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jetstream } from '@nats-io/jetstream';
import { Objm, type ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmdSubject } from '../../src/contract/index.js';
import { waMessageIdFor } from '../../src/runtime/message-id.js';
import type { Fact, FactOf } from '../../src/runtime/port.js';
import { startScenario, type Scenario } from '../support/gateway-scenario.js';
import { dumpStream, request } from '../support/nats-client.js';
import { connectTo } from '../support/nats-server.js';
import { trustMediaCertificate } from '../support/simulator-client.js';
import { Waiters } from '../support/waiters.js';

/** One awaited condition: an upload and a send on loopback take well under a second. */
const DEADLINE_MS = 20_000;
/** The simulator's ledger lives outside the fact log: re-checked this often. */
const LEDGER_POLL_MS = 20;
/** Short, so the URL that never answers costs little. */
const URL_TIMEOUT_MS = 400;
const CONTACT = '4915100000301';
const CHAT = `${CONTACT}@s.whatsapp.net`;

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('every kind of message', () => {
  let s: Scenario;
  let nc: NatsConnection;
  let bucket: ObjectStore;
  let http: Server;
  let base: string;
  const waiters = new Waiters();
  const docBytes = randomBytes(120 * 1024);

  const of = <T extends Fact['type']>(type: T) =>
    s.facts.filter((f): f is FactOf<T> => f.type === type && f.account === s.account);
  const until = <T>(what: string, probe: () => T | undefined, pollMs?: number) =>
    waiters.until(what, probe, DEADLINE_MS, pollMs);
  const acked = (ids: string[]) =>
    until(`${ids.join(', ')} acknowledged by the server`, () =>
      ids.every((id) => of('send.acked').some((a) => a.id === id && a.ack === 'server')) ? true : undefined,
    );
  const wa = (id: string) => waMessageIdFor(s.account, id);
  const ledgerEntry = (id: string) =>
    until(
      `${id} at the simulator`,
      () => s.sim.ledger({ account: s.provisioned.account.phone, chat: CHAT }).find((e) => e.id === wa(id)),
      LEDGER_POLL_MS,
    );
  const send = (body: Record<string, unknown>) =>
    request(nc, cmdSubject(s.account, 'send'), { to: `+${CONTACT}`, ...body });
  const put = async (name: string, bytes: Uint8Array) => {
    await bucket.putBlob({ name }, bytes);
    return bytes;
  };

  beforeAll(async () => {
    http = createServer((req, res) => {
      if (req.url === '/report.pdf') {
        res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': docBytes.byteLength });
        res.end(docBytes);
      } else if (req.url === '/big.webp') {
        // No content-length: the limit must hold while streaming.
        res.writeHead(200, { 'content-type': 'image/webp' });
        res.end(randomBytes(600 * 1024));
      } else if (req.url === '/slow') {
        res.writeHead(200, { 'content-type': 'application/pdf' });
        res.write('%PDF'); // and never more
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    // Keepalive off and a long ack deadline: only the injected 408 ends a connection here.
    s = await startScenario({
      account: 'kinds',
      keepalive: 'off',
      timings: { ackTimeoutMs: 60_000 },
      media: { url: { timeoutMs: URL_TIMEOUT_MS } },
    });
    trustMediaCertificate(s.sim);
    s.running.onFact(() => waiters.poke());
    nc = await connectTo(s.nats.url);
    bucket = await new Objm(jetstream(nc)).open('WA_MEDIA');
    await s.entered('open');
  });
  afterAll(async () => {
    await nc?.close();
    await s?.close();
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
  });

  it('sends each kind once, with its content, media as the bytes the client put', async () => {
    expect(await send({ id: 't1', text: 'hello' })).toMatchObject({ ok: true, status: 'queued' });
    await acked(['t1']);
    const photo = await put('photo.jpg', randomBytes(300 * 1024));
    const voice = await put('voice.ogg', randomBytes(50 * 1024));
    const clip = randomBytes(40 * 1024);
    const sticker = randomBytes(10 * 1024);
    const vcard = 'BEGIN:VCARD\nVERSION:3.0\nFN:Ada Lovelace\nTEL;type=CELL:+4915100000999\nEND:VCARD';
    const requests: [string, Record<string, unknown>][] = [
      ['img', { kind: 'image', media: { object: 'photo.jpg' }, caption: 'a photo', replyTo: wa('t1') }],
      ['vid', { kind: 'video', media: { base64: clip.toString('base64') }, caption: 'a clip' }],
      ['aud', { kind: 'audio', media: { object: 'voice.ogg' }, voiceNote: true }],
      ['doc', { kind: 'document', media: { url: `${base}/report.pdf` }, fileName: 'report.pdf' }],
      ['stk', { kind: 'sticker', media: { base64: sticker.toString('base64') } }],
      ['loc', { kind: 'location', location: { latitude: 52.52, longitude: 13.405, name: 'Berlin' } }],
      ['con', { kind: 'contact', contact: { vcard } }],
      ['rep', { text: 'indeed', replyTo: wa('t1') }],
      ['rea', { kind: 'reaction', target: wa('t1'), emoji: '👍' }],
      ['edi', { kind: 'edit', target: wa('t1'), text: 'hello, edited' }],
    ];
    for (const [id, body] of requests) {
      expect(await send({ id, ...body }), id).toMatchObject({ ok: true, id, status: 'queued' });
    }
    await acked(requests.map(([id]) => id));
    // Deleting needs the image's send.sent in the stream: it is acked, so it is there.
    expect(await send({ id: 'del', kind: 'delete', target: wa('img') })).toMatchObject({ ok: true });
    await acked(['del']);

    expect(of('send.failed')).toEqual([]);
    const kinds = Object.fromEntries(
      (await dumpStream(nc)).events.flatMap((e) =>
        e.event.type === 'send.queued' ? [[e.event.id, e.event.kind]] : [],
      ),
    );
    expect(kinds).toMatchObject({
      t1: 'text',
      img: 'image',
      aud: 'audio',
      rea: 'reaction',
      edi: 'edit',
      del: 'delete',
    });

    const img = await ledgerEntry('img');
    expect(img).toMatchObject({ type: 'image', caption: 'a photo', quotedId: wa('t1'), count: 1 });
    expect(img.plainSha256).toBe(sha(photo));
    const vid = await ledgerEntry('vid');
    expect(vid).toMatchObject({ type: 'video', caption: 'a clip', count: 1, plainSha256: sha(clip) });
    const aud = await ledgerEntry('aud');
    expect(aud).toMatchObject({
      type: 'audio',
      ptt: true,
      mimetype: 'audio/ogg; codecs=opus',
      plainSha256: sha(voice),
    });
    const doc = await ledgerEntry('doc');
    expect(doc).toMatchObject({ type: 'document', fileName: 'report.pdf', mimetype: 'application/pdf' });
    expect(doc.plainSha256).toBe(sha(docBytes));
    expect(await ledgerEntry('stk')).toMatchObject({ type: 'sticker', plainSha256: sha(sticker) });
    expect(await ledgerEntry('loc')).toMatchObject({
      type: 'location',
      location: { latitude: 52.52, longitude: 13.405, name: 'Berlin' },
    });
    expect(await ledgerEntry('con')).toMatchObject({ type: 'contact', contact: { vcard } });
    expect(await ledgerEntry('rep')).toMatchObject({ type: 'text', text: 'indeed', quotedId: wa('t1') });
    expect(await ledgerEntry('rea')).toMatchObject({ type: 'reaction', reaction: { targetId: wa('t1'), emoji: '👍' } });
    expect(await ledgerEntry('edi')).toMatchObject({
      type: 'edit',
      edit: { targetId: wa('t1'), text: 'hello, edited' },
    });
    expect(await ledgerEntry('del')).toMatchObject({ type: 'revoke', revoke: { targetId: wa('img') } });
    for (const id of ['t1', ...requests.map(([i]) => i), 'del']) expect((await ledgerEntry(id)).count, id).toBe(1);
  });

  it('receives media into WA_MEDIA with the bytes the contact sent, and reactions, edits and deletes as facts', async () => {
    const phone = s.provisioned.account.phone;
    const bytes = randomBytes(64 * 1024);
    const pushed = s.sim.pushInbound({
      account: phone,
      from: CONTACT,
      media: { type: 'image', data: bytes, caption: 'look' },
      quotedId: wa('t1'),
    });
    const image = await until('the inbound image', () => of('message.in').find((m) => m.waMessageId === pushed.id));
    expect(image).toMatchObject({ kind: 'image', caption: 'look', replyTo: wa('t1'), chat: CHAT });
    expect(image.media).toMatchObject({ mimetype: 'image/jpeg', size: bytes.byteLength, sha256: sha(bytes) });
    expect(image.media?.mediaKey).toBeUndefined();
    const stored = await bucket.getBlob(image.media!.object!);
    expect(Buffer.from(stored!).equals(bytes)).toBe(true);

    const text = s.sim.pushInbound({ account: phone, from: CONTACT, text: 'typo' });
    await until('the inbound text', () => of('message.in').find((m) => m.waMessageId === text.id));
    s.sim.pushInbound({ account: phone, from: CONTACT, reaction: { targetId: wa('t1'), emoji: '❤️' } });
    expect(await until('the reaction', () => of('message.reaction')[0])).toMatchObject({
      target: wa('t1'),
      targetFromMe: true,
      emoji: '❤️',
      from: CHAT,
    });
    s.sim.pushInbound({ account: phone, from: CONTACT, edit: { targetId: text.id, text: 'type' } });
    expect(await until('the edit', () => of('message.edited')[0])).toMatchObject({ target: text.id, text: 'type' });
    s.sim.pushInbound({ account: phone, from: CONTACT, revoke: { targetId: text.id } });
    expect(await until('the delete', () => of('message.deleted')[0])).toMatchObject({ target: text.id });

    // The contact's own message is not ours to edit: refused, nothing recorded.
    expect(await send({ id: 'bad-edit', kind: 'edit', target: text.id, text: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'bad_request', message: expect.stringMatching(/not one this account sent/) },
    });
  });

  it('refuses bad input with a typed error and records nothing', async () => {
    await put('huge-sticker.webp', randomBytes(600 * 1024));
    const cases: [string, Record<string, unknown>, string][] = [
      ['bad-kind', { kind: 'poll', text: 'x' }, 'bad_request'],
      ['bad-object', { kind: 'image', media: { object: 'no-such-object' } }, 'bad_request'],
      ['bad-size', { kind: 'sticker', media: { object: 'huge-sticker.webp' } }, 'too_large'],
      ['bad-slow', { kind: 'document', media: { url: `${base}/slow` } }, 'timeout'],
      ['bad-big', { kind: 'sticker', media: { url: `${base}/big.webp` } }, 'too_large'],
      ['bad-404', { kind: 'image', media: { url: `${base}/missing.jpg` } }, 'bad_request'],
      ['bad-react', { kind: 'reaction', target: '3EB0DEADBEEF00', emoji: '👍' }, 'bad_request'],
      ['bad-inline', { kind: 'image', media: { base64: randomBytes(70 * 1024).toString('base64') } }, 'too_large'],
      ['t1', { text: 'not hello' }, 'conflict'],
    ];
    for (const [id, body, code] of cases) {
      expect(await send({ id, ...body }), id).toMatchObject({ ok: false, error: { code } });
    }
    const queued = (await dumpStream(nc)).events.flatMap((e) => (e.event.type === 'send.queued' ? [e.event.id] : []));
    for (const [id] of cases.filter(([i]) => i !== 't1')) expect(queued, id).not.toContain(id);
    expect(queued.filter((id) => id === 't1')).toHaveLength(1);
  });

  it('holds a media send across a forced 408 and replays it once, in order, without uploading again', async () => {
    const phone = s.provisioned.account.phone;
    const picture = await put('held.jpg', randomBytes(200 * 1024));
    const before = s.facts.length;
    // Silenced, the server discards what it reads: the sends are written (and the image
    // uploaded over https) but never arrive; then the link drops with 408.
    s.sim.setFaults({ silence: true }, phone);
    expect(await send({ id: 'h1', text: 'before the picture' })).toMatchObject({ ok: true });
    expect(await send({ id: 'h2', kind: 'image', media: { object: 'held.jpg' }, caption: 'held' })).toMatchObject({
      ok: true,
    });
    expect(await send({ id: 'h3', text: 'after the picture' })).toMatchObject({ ok: true });
    await until('all three written while the server is silent', () =>
      ['h1', 'h2', 'h3'].every((id) => of('send.sent').some((f) => f.id === id)) ? true : undefined,
    );
    s.sim.clearFaults(phone, ['silence']);
    s.sim.inject({ type: 'stream-error', code: 408 }, phone);
    await until('the 408', () =>
      s.facts.slice(before).find((f) => f.type === 'transition' && f.account === s.account && f.statusCode === 408),
    );
    await acked(['h1', 'h2', 'h3']);

    const entries = await Promise.all(['h1', 'h2', 'h3'].map(ledgerEntry));
    expect(entries.map((e) => e.count)).toEqual([1, 1, 1]);
    expect(entries.map((e) => e.chatSeq)).toEqual([...entries.map((e) => e.chatSeq)].sort((a, b) => a - b));
    // Written twice (before the drop and on replay), uploaded once.
    expect(of('send.sent').filter((f) => f.id === 'h2').length).toBeGreaterThanOrEqual(2);
    const uploads = of('send.uploaded').filter((u) => u.id === 'h2');
    expect(uploads).toHaveLength(1);
    expect(entries[1]).toMatchObject({ type: 'image', caption: 'held', directPath: uploads[0]!.media.directPath });
    expect(entries[1]!.plainSha256).toBe(sha(picture));
    // And at the media host: one blob for it, the one the message names.
    const blobs = s.sim.mediaUploads(phone).filter((u) => u.directPath === uploads[0]!.media.directPath);
    expect(blobs).toHaveLength(1);
    expect(s.sim.mediaUploads(phone).filter((u) => u.size === blobs[0]!.size)).toHaveLength(1);
  });
});
