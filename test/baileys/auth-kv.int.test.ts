import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { BufferJSON, initAuthCreds, proto, type SignalDataSet } from '@whiskeysockets/baileys';
import { describe, expect, it } from 'vitest';
import { AUTH_BUCKET, AuthKeyError, Keyring, parseSignalKey, signalKey } from '../../src/baileys/auth-codec.js';
import { StaleWriterError } from '../../src/baileys/auth-kv.js';
import { kvSessionStores, type AuthStores } from '../../src/baileys/auth-stores.js';
import { moveSession } from '../../src/baileys/move-store.js';
import { fileStores } from '../../src/baileys/auth-stores.js';
import { WaError } from '../../src/contract/index.js';
import { natsServerPerFile } from '../support/nats-server.js';
import { tempDir } from '../support/temp-dir.js';

let nc: NatsConnection;
natsServerPerFile((_s, c) => {
  nc = c;
});

const key = () => `k${randomBytes(2).toString('hex')}:${randomBytes(32).toString('base64')}`;
const stores = (keyring = Keyring.none, writer?: string) =>
  kvSessionStores({ nc, replicas: 1, keyring, ...(writer ? { writer } : {}) });
const asJson = (v: unknown) => JSON.stringify(v, BufferJSON.replacer);
let n = 0;
const account = () => `kv${n++}-${randomBytes(3).toString('hex')}`;

/** One value of every key type Baileys 7.0.0-rc14 stores, with ids holding `:`, `@`, `.`, `/`. */
function everyType(): SignalDataSet {
  const buf = () => randomBytes(32);
  return {
    'pre-key': { '1': { public: buf(), private: buf() } },
    session: { '15551234567.0:3@s.whatsapp.net': { _sessions: { [buf().toString('base64')]: { x: buf() } } } },
    'sender-key': { '120363@g.us::15551234567::3': { chain: buf() } },
    'sender-key-memory': { '120363@g.us': { '15551234567:3@s.whatsapp.net': true } },
    'app-state-sync-key': {
      'AAAAAB/x': proto.Message.AppStateSyncKeyData.fromObject({ keyData: buf(), timestamp: 1 }),
    },
    'app-state-sync-version': { regular_high: { version: 3, hash: buf(), indexValueMap: {} } },
    'lid-mapping': { '15551234567': '998877@lid', '998877_reverse': '15551234567' },
    'device-list': { '15551234567': ['0', '3'] },
    tctoken: { '15551234567@s.whatsapp.net': { token: buf(), timestamp: '1700000000' } },
  } as unknown as SignalDataSet;
}

async function roundTrip(s: AuthStores, acct: string, data: SignalDataSet) {
  const a = await s.open(acct, { create: true });
  a.state.creds = { ...a.state.creds, registrationId: 4242 };
  await a.saveCreds();
  await a.state.keys.set(data);
  await a.close();
  const b = await s.open(acct, { create: false });
  expect(b.state.creds.registrationId).toBe(4242);
  for (const [type, entries] of Object.entries(data)) {
    const got = await b.state.keys.get(type as never, Object.keys(entries ?? {}));
    expect(JSON.parse(asJson(got))).toEqual(JSON.parse(asJson(entries)));
  }
  expect((await b.listKeys()).length).toBe(Object.values(data).reduce((k, e) => k + Object.keys(e ?? {}).length, 0));
  return b;
}

describe('auth state in NATS KV', () => {
  it('round-trips creds and every key type, ids with :, @, . and /, through a new open', async () => {
    const b = await roundTrip(await stores(), account(), everyType());
    await b.close();
  });

  it('maps every id to a KV key and back', () => {
    for (const id of ['1', 'a:b@c.d', 'x/y', '=3a', 'ü€', 'a..b', '-_']) {
      const k = signalKey('acct', 'pre-key', id);
      expect(k).toMatch(/^[-/_=.A-Za-z0-9]+$/);
      expect(k.split('.')).toHaveLength(3);
      expect(parseSignalKey('acct', k)).toEqual(['pre-key', id]);
    }
  });

  it('deletes keys and answers absent ones as absent', async () => {
    const s = await stores();
    const acct = account();
    const a = await s.open(acct, { create: true });
    await a.state.keys.set({ 'pre-key': { '7': { public: randomBytes(32), private: randomBytes(32) } } });
    await a.state.keys.set({ 'pre-key': { '7': null } });
    expect(await a.state.keys.get('pre-key', ['7', '8'])).toEqual({});
    await a.close();
    const b = await s.open(acct, { create: true });
    expect(await b.state.keys.get('pre-key', ['7'])).toEqual({});
    await b.state.keys.set({ 'pre-key': { '7': { public: randomBytes(32), private: randomBytes(32) } } }); // over a delete marker
    expect(Object.keys(await b.state.keys.get('pre-key', ['7']))).toEqual(['7']);
    await b.close();
  });

  it('encrypts values with the operator key (no plaintext in the bucket) and reads them back', async () => {
    const k1 = key();
    const acct = account();
    const secret = randomBytes(32);
    const a = await (await stores(Keyring.parse(k1, 'test'))).open(acct, { create: true });
    await a.state.keys.set({ 'pre-key': { '1': { public: secret, private: secret } } });
    await a.saveCreds();
    await a.close();
    const kv = await new Kvm(nc).open(AUTH_BUCKET);
    const raw = (await kv.get(signalKey(acct, 'pre-key', '1')))!.value;
    expect(Buffer.from(raw).subarray(0, 4).toString()).toBe('WAE1');
    expect(Buffer.from(raw).includes(Buffer.from(secret.toString('base64')))).toBe(false);
    expect(Keyring.keyIdOf(raw)).toBe(k1.split(':')[0]);
    const b = await (await stores(Keyring.parse(k1, 'test'))).open(acct, { create: false });
    expect(asJson(await b.state.keys.get('pre-key', ['1']))).toBe(asJson({ 1: { public: secret, private: secret } }));
    await b.close();
  });

  it('refuses to open with a wrong or missing key: a typed error naming the key id, never the key', async () => {
    const k1 = key();
    const acct = account();
    const a = await (await stores(Keyring.parse(k1, 'test'))).open(acct, { create: true });
    await a.saveCreds();
    await a.close();
    const missing = await (await stores()).open(acct, { create: false }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(AuthKeyError);
    expect((missing as Error).message).toContain(k1.split(':')[0]);
    const sameId = `${k1.split(':')[0]}:${randomBytes(32).toString('base64')}`;
    const wrong = await (await stores(Keyring.parse(sameId, 'test'))).open(acct, { create: false }).catch((e) => e);
    expect(wrong).toBeInstanceOf(AuthKeyError);
    expect((wrong as Error).message).not.toContain(k1.split(':')[1]!.slice(0, 8));
  });

  it('rotates: a new current key reads the old values, and the takeover re-encrypts them all', async () => {
    const [k1, k2] = [key(), key()];
    const acct = account();
    const a = await (await stores(Keyring.parse(k1, 'test'))).open(acct, { create: true });
    await a.state.keys.set(everyType());
    await a.saveCreds();
    await a.close();
    const b = await (await stores(Keyring.parse(`${k2}\n${k1}`, 'test'))).open(acct, { create: false });
    await b.close();
    const kv = await new Kvm(nc).open(AUTH_BUCKET);
    for await (const k of await kv.keys(`${acct}.>`)) {
      if (k.endsWith('._writer')) continue;
      expect(Keyring.keyIdOf((await kv.get(k))!.value)).toBe(k2.split(':')[0]);
    }
    const c = await (await stores(Keyring.parse(k2, 'test'))).open(acct, { create: false }); // k1 retired
    expect(Object.keys(await c.state.keys.get('pre-key', ['1']))).toEqual(['1']);
    await c.close();
  });

  it('rejects a stale writer at the server after a takeover, and stops it; the new writer keeps its state', async () => {
    const acct = account();
    const old = await (await stores(Keyring.none, 'old')).open(acct, { create: true });
    await old.state.keys.set({ session: { 'peer:1@s.whatsapp.net': { v: 'old-1' } } } as unknown as SignalDataSet);
    await old.saveCreds();
    const fenced: unknown[] = [];
    // Re-open the old writer's handle with a fence callback: same store, as the gateway wires it.
    await old.close();
    const stale = await (
      await stores(Keyring.none, 'old')
    ).open(acct, { create: true, onFenced: (e) => fenced.push(e) });
    const fresh = await (await stores(Keyring.none, 'new')).open(acct, { create: true }); // the takeover
    const jsm = await jetstreamManager(nc);
    const before = (await jsm.streams.info(`KV_${AUTH_BUCKET}`)).state.last_seq;

    const existing = await Promise.resolve()
      .then(() =>
        stale.state.keys.set({ session: { 'peer:1@s.whatsapp.net': { v: 'stale' } } } as unknown as SignalDataSet),
      )
      .catch((e: unknown) => e);
    expect(existing).toBeInstanceOf(StaleWriterError);
    expect((existing as WaError).code).toBe('unavailable');
    expect(fenced).toHaveLength(1);
    // Sticky: no retry reaches the server, whatever the key (creds included).
    await expect(stale.saveCreds()).rejects.toBeInstanceOf(StaleWriterError);
    await expect(
      stale.state.keys.set({ 'pre-key': { '99': { public: randomBytes(32), private: randomBytes(32) } } }),
    ).rejects.toBeInstanceOf(StaleWriterError);
    expect((await jsm.streams.info(`KV_${AUTH_BUCKET}`)).state.last_seq).toBe(before);

    expect(asJson(await fresh.state.keys.get('session', ['peer:1@s.whatsapp.net']))).toBe(
      asJson({ 'peer:1@s.whatsapp.net': { v: 'old-1' } }),
    );
    await fresh.state.keys.set({ session: { 'peer:1@s.whatsapp.net': { v: 'new-2' } } } as unknown as SignalDataSet);
    await stale.close();
    await fresh.close();
    const reread = await (await stores()).open(acct, { create: false });
    expect(asJson(await reread.state.keys.get('session', ['peer:1@s.whatsapp.net']))).toBe(
      asJson({ 'peer:1@s.whatsapp.net': { v: 'new-2' } }),
    );
    await reread.close();
  });

  it('refuses a stale writer that read a key before the takeover and writes it without having written it', async () => {
    const acct = account();
    const seed = await (await stores()).open(acct, { create: true });
    await seed.state.keys.set({ 'sender-key': { 'g@g.us::1::0': { c: 1 } } } as unknown as SignalDataSet);
    await seed.close();
    const stale = await (await stores(Keyring.none, 'old')).open(acct, { create: true });
    await stale.state.keys.get('sender-key', ['g@g.us::1::0']);
    const fresh = await (await stores(Keyring.none, 'new')).open(acct, { create: true });
    await expect(
      stale.state.keys.set({ 'sender-key': { 'g@g.us::1::0': { c: 2 } } } as unknown as SignalDataSet),
    ).rejects.toBeInstanceOf(StaleWriterError);
    await fresh.close();
    await stale.close();
  });

  it('says not_paired for an account with nothing in KV, creating nothing', async () => {
    const err = await (await stores()).open(account(), { create: false }).catch((e: unknown) => e);
    expect((err as WaError).code).toBe('not_paired');
  });

  it('moves an account file → kv → file, keys and creds intact, the source emptied', async () => {
    const dir = await tempDir('wa-connd-kv-move-');
    try {
      const acct = account();
      const data = everyType();
      const files = fileStores(dir.path);
      const f = await files.open(acct, { create: true });
      f.state.creds = { ...initAuthCreds(), me: { id: '15550001111:2@s.whatsapp.net', name: 'x' } };
      await f.saveCreds();
      await f.state.keys.set(data);
      await f.close();
      const kv = await stores();
      const moved = await moveSession(files, kv, acct);
      expect(moved.keys).toBe(Object.values(data).reduce((k, e) => k + Object.keys(e ?? {}).length, 0));
      expect((await files.open(acct, { create: false }).catch((e: unknown) => e)) as WaError).toMatchObject({
        code: 'not_paired',
      });
      await moveSession(kv, files, acct);
      expect(((await kv.open(acct, { create: false }).catch((e: unknown) => e)) as WaError).code).toBe('not_paired');
      const back = await files.open(acct, { create: false });
      expect(back.state.creds.me?.id).toBe('15550001111:2@s.whatsapp.net');
      for (const [type, entries] of Object.entries(data))
        expect(JSON.parse(asJson(await back.state.keys.get(type as never, Object.keys(entries ?? {}))))).toEqual(
          JSON.parse(asJson(entries)),
        );
      await back.close();
    } finally {
      await dir.remove();
    }
  });
});
