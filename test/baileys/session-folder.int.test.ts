/**
 * Baileys auth folders in and out of the file store (src/baileys/session-folder.ts),
 * against Baileys' own `useMultiFileAuthState`: every key type, with the ids whose `:`
 * and `/` Baileys' file naming loses, survives import and export; every bad folder is
 * refused with a typed error and leaves the data dir byte for byte as it was.
 * The simulator round trip through the CLI is test/cli/import-export.e2e.test.ts.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BufferJSON,
  Curve,
  initAuthCreds,
  proto,
  useMultiFileAuthState,
  type AuthenticationCreds,
  type SignalDataSet,
  type SignalDataTypeMap,
} from '@whiskeysockets/baileys';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAuthStore } from '../../src/baileys/auth-store.js';
import { parseBaileysKeyFile } from '../../src/baileys/baileys-folder.js';
import {
  exportSession,
  fileSessionStores,
  importSession,
  type SessionStores,
} from '../../src/baileys/session-folder.js';
import { WaError, type WaErrorCode } from '../../src/contract/index.js';
import { tempDir } from '../support/temp-dir.js';

let tmp: { path: string; remove(): Promise<void> };
let dataDir: string;
const ACCOUNT = 'moved';

beforeEach(async () => {
  tmp = await tempDir('wa-connd-folder-');
  dataDir = join(tmp.path, 'data');
  await mkdir(dataDir);
});
afterEach(async () => tmp.remove());

/** Paired-looking creds: what pair-success leaves in creds.json (`me`, `account`). */
function pairedCreds(): AuthenticationCreds {
  return {
    ...initAuthCreds(),
    me: { id: '4915100000001:7@s.whatsapp.net', lid: '100000000000001:7@lid', name: 'moved' },
    account: {
      details: Buffer.from('details'),
      accountSignatureKey: Buffer.from('k'.repeat(32)),
      accountSignature: Buffer.from('s'),
      deviceSignature: Buffer.from('d'),
    },
    platform: 'android',
  };
}

/** One key of every type, ids chosen where Baileys' naming is lossy (`::`, `/`, a device JID, `__index`). */
const KEYS = {
  'pre-key': { '1': Curve.generateKeyPair(), '42': Curve.generateKeyPair() },
  session: { '4915100000002.0': Buffer.from('session-pn'), '100000000000002_1.3': Buffer.from('session-lid') },
  'sender-key': {
    '120363000000000001@g.us::100000000000002_1::0': Buffer.from('sk-new-group'),
    '4915100000002-1612345678@g.us::4915100000003::12': Buffer.from('sk-legacy-group'),
  },
  'sender-key-memory': { '4915100000002-1612345678@g.us': { '4915100000003:12@s.whatsapp.net': true } },
  'app-state-sync-key': { 'AAAAAA/b+c=': { keyData: Buffer.from('appkey'), timestamp: 1 } },
  'app-state-sync-version': { regular_high: { version: 3, hash: Buffer.alloc(128, 1), indexValueMap: {} } },
  'lid-mapping': { '4915100000002': '100000000000002', '100000000000002_reverse': '4915100000002' },
  'device-list': { '4915100000002': ['0', '3'] },
  tctoken: {
    __index: { token: Buffer.from('["100000000000002@lid"]') },
    '100000000000002@lid': { token: Buffer.from('tc'), timestamp: '1' },
    '4915100000002:3@s.whatsapp.net': { token: Buffer.from('tc-device') },
  },
  'identity-key': { '100000000000002_1.0': Buffer.from('i'.repeat(33)) },
} satisfies { [T in keyof SignalDataTypeMap]: Record<string, unknown> };

/** A folder written by Baileys' own useMultiFileAuthState. */
async function baileysFolder(name: string, creds = pairedCreds()): Promise<string> {
  const dir = join(tmp.path, name);
  const { state, saveCreds } = await useMultiFileAuthState(dir);
  Object.assign(state.creds, creds);
  await saveCreds();
  await state.keys.set(KEYS as unknown as SignalDataSet);
  return dir;
}

const asJson = (v: unknown) => JSON.stringify(v, BufferJSON.replacer);
/** app-state-sync-key comes back as a protobuf message (both stores call fromObject on read); compare that form. */
const plain = (type: string, entries: Record<string, unknown>) =>
  JSON.parse(
    asJson(
      type === 'app-state-sync-key'
        ? Object.fromEntries(
            Object.entries(entries).map(([id, v]) => [id, proto.Message.AppStateSyncKeyData.fromObject(v as object)]),
          )
        : entries,
    ),
  ) as unknown;

/** Every file under `dir` with its content hash: "nothing changed" means this is equal. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string, prefix: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name), `${prefix}${e.name}/`);
      else
        out[`${prefix}${e.name}`] = createHash('sha256')
          .update(await readFile(join(d, e.name)))
          .digest('hex');
    }
  };
  await walk(dir, '');
  return out;
}

async function expectRefused(p: Promise<unknown>, code: WaErrorCode, message: RegExp): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WaError);
  expect((err as WaError).code).toBe(code);
  expect((err as WaError).message).toMatch(message);
}

describe('import and export of a Baileys multi-file folder', () => {
  it("reads back every key under Baileys' own ids, in wa-connd and again in Baileys after export", async () => {
    const folder = await baileysFolder('from-baileys');
    const stores = fileSessionStores(dataDir);
    const imported = await importSession(stores, ACCOUNT, folder);
    const total = Object.values(KEYS).reduce((n, ids) => n + Object.keys(ids).length, 0);
    expect(imported).toEqual({ account: ACCOUNT, me: '4915100000001:7@s.whatsapp.net', keys: total });

    const store = await openAuthStore(dataDir, ACCOUNT);
    try {
      expect(asJson(store.state.creds)).toBe(asJson({ ...initAuthCreds(), ...pairedCreds(), ...store.state.creds }));
      expect(store.state.creds.me?.id).toBe('4915100000001:7@s.whatsapp.net');
      for (const [type, entries] of Object.entries(KEYS)) {
        const got = await store.state.keys.get(type as keyof SignalDataTypeMap, Object.keys(entries));
        expect(plain(type, got), type).toEqual(plain(type, entries));
      }
    } finally {
      await store.close();
    }

    const out = join(tmp.path, 'exported');
    expect(await exportSession(stores, ACCOUNT, out)).toMatchObject({ keys: total, dir: out });
    // The same file names Baileys wrote, and Baileys reads every key back by its id.
    expect((await readdir(out)).sort()).toEqual((await readdir(folder)).sort());
    const { state } = await useMultiFileAuthState(out);
    expect(state.creds.me?.id).toBe('4915100000001:7@s.whatsapp.net');
    expect(asJson(state.creds.noiseKey)).toBe(asJson(store.state.creds.noiseKey));
    for (const [type, entries] of Object.entries(KEYS)) {
      const got = await state.keys.get(type as keyof SignalDataTypeMap, Object.keys(entries));
      expect(plain(type, got), type).toEqual(plain(type, entries));
    }
  });

  it("maps Baileys' file names back to ids only where Baileys would have written that name", () => {
    expect(parseBaileysKeyFile('sender-key-memory-120363@g.us.json')).toEqual(['sender-key-memory', '120363@g.us']);
    expect(parseBaileysKeyFile('app-state-sync-key-AAAA__b+c=.json')).toEqual(['app-state-sync-key', 'AAAA/b+c=']);
    expect(parseBaileysKeyFile('tctoken-__index.json')).toEqual(['tctoken', '__index']);
    expect(parseBaileysKeyFile('tctoken-491-3@s.whatsapp.net.json')).toEqual(['tctoken', '491:3@s.whatsapp.net']);
    for (const foreign of [
      'notes.txt',
      'session.json',
      'pre-key-1.txt',
      'unknown-type-1.json',
      'session~4915.0.json',
      '.lock',
      'creds.json.bak',
    ]) {
      expect(parseBaileysKeyFile(foreign), foreign).toBeNull();
    }
  });
});

describe('a folder or an account that cannot be imported changes nothing', () => {
  /** An account that already has a (different) session, so "unchanged" is visible. */
  async function existingAccount(): Promise<Record<string, string>> {
    await importSession(fileSessionStores(dataDir), ACCOUNT, await baileysFolder('earlier'));
    return snapshot(dataDir);
  }

  const cases: { name: string; code: WaErrorCode; message: RegExp; folder: () => Promise<string>; force?: boolean }[] =
    [
      {
        name: 'no folder',
        code: 'bad_request',
        message: /no folder at/,
        folder: async () => join(tmp.path, 'missing'),
      },
      {
        name: 'a file, not a folder',
        code: 'bad_request',
        message: /is not a folder/,
        folder: async () => {
          const f = join(tmp.path, 'creds.json');
          await writeFile(f, '{}');
          return f;
        },
      },
      {
        name: 'no creds.json (partial copy)',
        code: 'bad_request',
        message: /no creds\.json/,
        folder: async () => {
          const d = await baileysFolder('partial');
          await import('node:fs/promises').then((fs) => fs.unlink(join(d, 'creds.json')));
          return d;
        },
      },
      {
        name: 'creds.json truncated',
        code: 'bad_request',
        message: /creds\.json .* not valid JSON/,
        folder: async () => {
          const d = await baileysFolder('trunc');
          const t = await readFile(join(d, 'creds.json'), 'utf8');
          await writeFile(join(d, 'creds.json'), t.slice(0, t.length / 2));
          return d;
        },
      },
      {
        name: 'a key file truncated',
        code: 'bad_request',
        message: /session-4915100000002\.0\.json .* not valid JSON/,
        folder: async () => {
          const d = await baileysFolder('trunc-key');
          await writeFile(join(d, 'session-4915100000002.0.json'), '{"type":"Buf');
          return d;
        },
      },
      {
        name: 'a file Baileys does not write',
        code: 'bad_request',
        message: /does not write \(notes\.txt\)/,
        folder: async () => {
          const d = await baileysFolder('extra');
          await writeFile(join(d, 'notes.txt'), 'x');
          return d;
        },
      },
      {
        name: "wa-connd's own store folder (foreign layout)",
        code: 'bad_request',
        message: /does not write/,
        folder: async () => join(dataDir, ACCOUNT),
      },
      {
        name: 'creds that never paired',
        code: 'not_paired',
        message: /never finished pairing/,
        folder: () => baileysFolder('unpaired', initAuthCreds()),
      },
      {
        name: 'creds.json that is not Baileys credentials',
        code: 'bad_request',
        message: /not Baileys credentials \(no noiseKey/,
        folder: async () => {
          const d = join(tmp.path, 'other');
          await mkdir(d);
          await writeFile(join(d, 'creds.json'), '{"token":"abc"}');
          return d;
        },
      },
      {
        name: 'an account that has credentials, without --force',
        code: 'conflict',
        message: /already has credentials .* --force/,
        folder: () => baileysFolder('newer'),
      },
    ];

  for (const c of cases) {
    it(`${c.name}: ${c.code}`, async () => {
      const before = await existingAccount();
      const folder = await c.folder();
      const folderBefore = (await readdir(tmp.path)).includes('missing')
        ? null
        : await snapshot(folder).catch(() => null);
      await expectRefused(importSession(fileSessionStores(dataDir), ACCOUNT, folder), c.code, c.message);
      expect(await snapshot(dataDir)).toEqual(before);
      if (folderBefore) expect(await snapshot(folder)).toEqual(folderBefore); // the source is only read
    });
  }

  it('an account a gateway holds (its lock): unavailable, with or without --force', async () => {
    const before = await existingAccount();
    const running = await openAuthStore(dataDir, ACCOUNT); // what a gateway running it holds
    try {
      const folder = await baileysFolder('while-running');
      const locked = await snapshot(dataDir);
      await expectRefused(
        importSession(fileSessionStores(dataDir), ACCOUNT, folder, { force: true }),
        'unavailable',
        /in use by process/,
      );
      expect(await snapshot(dataDir)).toEqual(locked);
      await expectRefused(
        exportSession(fileSessionStores(dataDir), ACCOUNT, join(tmp.path, 'out')),
        'unavailable',
        /in use by process/,
      );
      expect((await readdir(tmp.path)).filter((n) => n.includes('out'))).toEqual([]);
    } finally {
      await running.close();
    }
    expect(await snapshot(dataDir)).toEqual(before);
  });

  it('--force replaces an existing session with the folder, and no key of the old one stays', async () => {
    await existingAccount();
    const store0 = await openAuthStore(dataDir, ACCOUNT);
    await store0.state.keys.set({ session: { '4915199999999.0': Buffer.from('old only') } });
    await store0.close();
    const newer = { ...pairedCreds(), me: { id: '4915100000009:2@s.whatsapp.net', name: 'newer' } };
    await importSession(fileSessionStores(dataDir), ACCOUNT, await baileysFolder('replacement', newer), {
      force: true,
    });
    const store = await openAuthStore(dataDir, ACCOUNT);
    try {
      expect(store.state.creds.me?.id).toBe('4915100000009:2@s.whatsapp.net');
      expect(await store.state.keys.get('session', ['4915199999999.0'])).toEqual({});
    } finally {
      await store.close();
    }
  });

  it('an import cut short after clearing leaves an account without creds (never a mix), and the next import completes it', async () => {
    await existingAccount();
    const files = fileSessionStores(dataDir);
    let writes = 0;
    // Any SessionStores plugs in: here the file store, failing its third key write (a full disk, a crash).
    const failing: SessionStores = {
      open: async (account, options) => {
        const store = await files.open(account, options);
        const set = store.state.keys.set.bind(store.state.keys);
        store.state.keys.set = async (data) => {
          if (++writes === 3) throw new Error('disk full');
          await set(data);
        };
        return store;
      },
    };
    const folder = await baileysFolder('cut-short');
    await expect(importSession(failing, ACCOUNT, folder, { force: true })).rejects.toThrow('disk full');
    const cut = await openAuthStore(dataDir, ACCOUNT);
    expect(cut.state.creds.me).toBeUndefined(); // creds come last: the old device is gone, no new one half there
    await cut.close();
    // No credentials now, so no --force needed.
    await importSession(files, ACCOUNT, folder);
    const done = await openAuthStore(dataDir, ACCOUNT);
    expect(done.state.creds.me?.id).toBe('4915100000001:7@s.whatsapp.net');
    expect(Object.keys(await done.state.keys.get('pre-key', ['1', '42']))).toEqual(['1', '42']);
    await done.close();
  });

  it('export refuses a non-empty target and an account without credentials, creating nothing', async () => {
    await existingAccount();
    const full = join(tmp.path, 'full');
    await mkdir(full);
    await writeFile(join(full, 'keep.txt'), 'mine');
    await expectRefused(exportSession(fileSessionStores(dataDir), ACCOUNT, full), 'conflict', /not an empty folder/);
    expect(await readdir(full)).toEqual(['keep.txt']);
    const before = await snapshot(dataDir);
    await expectRefused(
      exportSession(fileSessionStores(dataDir), 'nobody', join(tmp.path, 'none')),
      'not_paired',
      /no credentials for nobody/,
    );
    expect(await snapshot(dataDir)).toEqual(before);
    expect(await readdir(tmp.path)).not.toContain('none');
  });
});
