/**
 * Media sources before a send is recorded (src/media/resolver.ts): a `WA_MEDIA` object,
 * an http URL, inline base64 — against a real nats-server (the bucket the gateway
 * creates) and a real local HTTP server. Each failure is a typed error.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { ObjectStore } from '@nats-io/obj';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MediaContent, MEDIA_MAX_BYTES, WaError } from '../../src/contract/index.js';
import { DEFAULT_MEDIA_SETTINGS, ensureMediaBucket } from '../../src/media/bucket.js';
import { ObjectMediaPort } from '../../src/media/port.js';
import { ObjectMediaResolver, readMedia } from '../../src/media/resolver.js';
import { silent } from '../support/loggers.js';
import { natsServerPerFile } from '../support/nats-server.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** The URL that never finishes must cost little. */
const TIMEOUT_MS = 300;

async function failure(p: Promise<unknown>): Promise<WaError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WaError);
  return err as WaError;
}

describe('media sources', () => {
  let nc: NatsConnection;
  let store: ObjectStore;
  let resolver: ObjectMediaResolver;
  let http: Server;
  let base: string;
  const pdf = randomBytes(50 * 1024);
  natsServerPerFile((_s, c) => {
    nc = c;
  });

  beforeAll(async () => {
    const settings = { ...DEFAULT_MEDIA_SETTINGS, maxAgeMs: 3_600_000, maxBytes: 256 * 1024 * 1024 };
    store = await ensureMediaBucket(jetstream(nc), await jetstreamManager(nc), settings, silent);
    resolver = new ObjectMediaResolver(store, { timeoutMs: TIMEOUT_MS, maxBytes: MEDIA_MAX_BYTES.document });
    http = createServer((req, res) => {
      if (req.url === '/doc.pdf') res.writeHead(200, { 'content-type': 'application/pdf' }).end(pdf);
      else if (req.url === '/declared-big') res.writeHead(200, { 'content-length': String(600 * 1024) }).end();
      else if (req.url === '/streamed-big') res.writeHead(200).end(randomBytes(600 * 1024));
      else if (req.url === '/hang') res.writeHead(200).write('x');
      else res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
  });

  it('creates WA_MEDIA with the configured limits, and updates them on the next start', async () => {
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info('OBJ_WA_MEDIA')).config).toMatchObject({ max_bytes: 256 * 1024 * 1024 });
    const next = { ...DEFAULT_MEDIA_SETTINGS, maxAgeMs: 7_200_000, maxBytes: 128 * 1024 * 1024 };
    await ensureMediaBucket(jetstream(nc), jsm, next, silent);
    expect((await jsm.streams.info('OBJ_WA_MEDIA')).config).toMatchObject({
      max_bytes: 128 * 1024 * 1024,
      max_age: nanos(7_200_000),
    });
  });

  it('takes a named object as it is: size, sha256, mimetype from the request, the metadata or the kind', async () => {
    const bytes = randomBytes(4096);
    await store.putBlob({ name: 'a.png', metadata: { mimetype: 'image/png' } }, bytes);
    const img: MediaContent = { kind: 'image', media: { object: 'a.png' } };
    expect(await resolver.resolve('acct', 's1', img)).toEqual({
      object: 'a.png',
      size: 4096,
      sha256: sha(bytes),
      mimetype: 'image/png',
    });
    // A voice note is Opus whatever the object says, unless the request names a mimetype.
    const voice: MediaContent = { kind: 'audio', media: { object: 'a.png' }, voiceNote: true };
    expect((await resolver.resolve('acct', 's2', voice)).mimetype).toBe('audio/ogg; codecs=opus');
    const given: MediaContent = { kind: 'audio', media: { object: 'a.png' }, mimetype: 'audio/mp4' };
    expect((await resolver.resolve('acct', 's3', given)).mimetype).toBe('audio/mp4');
    await store.putBlob({ name: 'plain' }, bytes);
    expect((await resolver.resolve('acct', 's4', { kind: 'video', media: { object: 'plain' } })).mimetype).toBe(
      'video/mp4',
    );
  });

  it('refuses a missing object (bad_request) and one over the kind limit (too_large)', async () => {
    expect((await failure(resolver.resolve('acct', 'm', { kind: 'image', media: { object: 'nope' } }))).code).toBe(
      'bad_request',
    );
    await store.putBlob({ name: 'big.webp' }, randomBytes(MEDIA_MAX_BYTES.sticker + 1));
    const err = await failure(resolver.resolve('acct', 'm', { kind: 'sticker', media: { object: 'big.webp' } }));
    expect(err.code).toBe('too_large');
    expect(err.message).toMatch(/sticker is 512001 bytes; WhatsApp's limit for a sticker is 512000/);
  });

  it('fetches a URL into WA_MEDIA under out/<account>/<id>, mimetype from the response', async () => {
    const r = await resolver.resolve('acct', 'doc-1', { kind: 'document', media: { url: `${base}/doc.pdf` } });
    expect(r).toEqual({
      object: 'out/acct/doc-1',
      size: pdf.byteLength,
      sha256: sha(pdf),
      mimetype: 'application/pdf',
    });
    expect(Buffer.from((await readMedia(store, r))!).equals(pdf)).toBe(true);
  });

  it('refuses a URL that is too big (declared or streamed), times out, or fails', async () => {
    const sticker = (path: string) =>
      resolver.resolve('acct', 'u', { kind: 'sticker', media: { url: `${base}${path}` } });
    expect((await failure(sticker('/declared-big'))).code).toBe('too_large');
    expect((await failure(sticker('/streamed-big'))).code).toBe('too_large');
    expect((await failure(sticker('/hang'))).code).toBe('timeout');
    expect((await failure(sticker('/error'))).message).toMatch(/HTTP 500/);
    expect(
      (await failure(resolver.resolve('acct', 'u', { kind: 'image', media: { url: 'http://127.0.0.1:1/x' } }))).code,
    ).toBe('bad_request');
  });

  it('stores inline base64 up to 64 KiB and refuses more', async () => {
    const small = randomBytes(1000);
    const r = await resolver.resolve('acct', 'inl', { kind: 'sticker', media: { base64: small.toString('base64') } });
    expect(r).toMatchObject({ object: 'out/acct/inl', size: 1000, sha256: sha(small), mimetype: 'image/webp' });
    const big = randomBytes(64 * 1024 + 1).toString('base64');
    expect((await failure(resolver.resolve('acct', 'inl2', { kind: 'image', media: { base64: big } }))).code).toBe(
      'too_large',
    );
  });

  it('refuses to send an object that changed after the send was accepted', async () => {
    const bytes = randomBytes(2048);
    await store.putBlob({ name: 'mutable' }, bytes);
    const r = await resolver.resolve('acct', 'x', { kind: 'image', media: { object: 'mutable' } });
    await store.putBlob({ name: 'mutable' }, randomBytes(2048));
    const err = await failure(new ObjectMediaPort(store).read(r));
    expect(err.code).toBe('conflict');
  });
});
