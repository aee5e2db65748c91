/**
 * Sessions in and out of wa-connd as a Baileys multi-file auth folder — what Baileys'
 * own `useMultiFileAuthState` writes and loads (and with it Baileys' examples, OpenClaw
 * and many gateways): `creds.json` plus one `<type>-<id>.json` per
 * signal key, values in Baileys' BufferJSON encoding, `/` in a name written as `__`
 * and `:` as `-` (Baileys 7.0.0-rc14, lib/Utils/use-multi-file-auth-state.js).
 *
 * Import validates the whole folder before it touches the store, so a bad or partial
 * folder changes nothing; export writes a temp folder beside the target and renames
 * it into place, so the target holds a complete folder or none. Both work on any
 * `SessionStores` — the file store (`fileSessionStores`) or NATS KV, as
 * `authStoresFor` (auth-stores.ts) chooses: open (with the lock or the fence),
 * `state`, `clear`, `saveCreds`, `listKeys`, `close`. See docs/cli.md ("accounts import").
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BufferJSON, type SignalDataSet, type SignalDataTypeMap } from '@whiskeysockets/baileys';
import { WaError } from '../contract/errors.js';
import { assertAccountId } from '../contract/subjects.js';
import { openAuthStore, type AuthStore } from './auth-store.js';
import { baileysFileName, CREDS_FILE, isDir, readBaileysFolder } from './baileys-folder.js';

/** Writes in flight at once: a folder can hold thousands of keys, each write opens a file. */
const WRITE_BATCH = 128;
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** What import and export need of an account's credential store. */
export type SessionStore = Pick<AuthStore, 'state' | 'saveCreds' | 'clear' | 'close' | 'listKeys'>;

export interface SessionStores {
  /**
   * Opens an account's store with its single-writer lock: `unavailable` while a gateway
   * runs the account. `create: false`: `not_paired`, creating nothing, when the store has
   * nothing for it.
   */
  open(account: string, options: { create: boolean }): Promise<SessionStore>;
}

/** The file store of `src/baileys/auth-store.ts` under a gateway's data dir. */
export function fileSessionStores(dataDir: string): SessionStores {
  return {
    open: async (account, { create }) => {
      assertAccountId(account);
      if (!create && !(await isDir(join(dataDir, account))))
        throw new WaError('not_paired', `no credentials for ${account} in ${dataDir}`);
      return openAuthStore(dataDir, account);
    },
  };
}

export type ImportResult = { account: string; me: string; keys: number };

/**
 * Imports a Baileys folder into `account`'s store. Refused, changing nothing: a bad or
 * unpaired folder (validated whole, first), an account a gateway runs (`unavailable`),
 * an account with credentials unless `force`. The store is cleared first and creds are
 * written last: a crash half-way leaves an account without creds (re-run the import),
 * never a mix of two sessions.
 */
export async function importSession(
  stores: SessionStores,
  account: string,
  dir: string,
  options: { force?: boolean } = {},
): Promise<ImportResult> {
  assertAccountId(account);
  const snapshot = await readBaileysFolder(dir);
  const store = await stores.open(account, { create: true });
  try {
    const current = store.state.creds.me?.id;
    if (current !== undefined && !options.force) {
      throw new WaError(
        'conflict',
        `${account} already has credentials (device ${current}); --force replaces them with the folder's`,
      );
    }
    await store.clear();
    const entries = Object.entries(snapshot.keys).flatMap(([type, ids]) =>
      Object.entries(ids ?? {}).map(([id, value]) => ({ [type]: { [id]: value } }) as SignalDataSet),
    );
    for (let i = 0; i < entries.length; i += WRITE_BATCH)
      await Promise.all(
        entries.slice(i, i + WRITE_BATCH).map(async (e) => {
          await store.state.keys.set(e);
        }),
      );
    store.state.creds = snapshot.creds;
    await store.saveCreds();
    return { account, me: snapshot.creds.me!.id, keys: entries.length };
  } finally {
    await store.close();
  }
}

export type ExportResult = { account: string; me: string; keys: number; dir: string };

/**
 * Writes `account`'s credentials and keys as a Baileys folder at `dir` (absent, or an
 * empty folder). Refused while a gateway runs the account: a copy of a live session is
 * stale the moment the gateway ratchets it, and two clients on one device fight (440).
 */
export async function exportSession(stores: SessionStores, account: string, dir: string): Promise<ExportResult> {
  assertAccountId(account);
  await assertEmptyTarget(dir);
  const store = await stores.open(account, { create: false });
  try {
    const { creds } = store.state;
    if (creds.me?.id === undefined) throw new WaError('not_paired', `${account} has no paired credentials to export`);
    const files = new Map<string, unknown>([[CREDS_FILE, creds]]);
    const byType = new Map<string, string[]>();
    for (const [type, id] of await store.listKeys()) byType.set(type, [...(byType.get(type) ?? []), id]);
    for (const [type, ids] of byType) {
      const values = await store.state.keys.get(type as keyof SignalDataTypeMap, ids);
      for (const [id, value] of Object.entries(values)) {
        const name = baileysFileName(`${type}-${id}.json`);
        // Baileys' naming is lossy; two keys on one name would silently lose one.
        if (files.has(name))
          throw new WaError('internal', `keys ${type}/${id} and another map to the same Baileys file ${name}`);
        files.set(name, value);
      }
    }
    await writeFolder(dir, files);
    return { account, me: creds.me.id, keys: files.size - 1, dir };
  } finally {
    await store.close();
  }
}

async function assertEmptyTarget(dir: string): Promise<void> {
  const st = await stat(dir).catch(() => null);
  if (!st) return;
  if (!st.isDirectory() || (await readdir(dir)).length > 0)
    throw new WaError('conflict', `${dir} exists and is not an empty folder; export into a new one`);
}

/** Temp folder beside `dir`, every file fsynced, then one rename: `dir` appears complete or not at all. */
async function writeFolder(dir: string, files: Map<string, unknown>): Promise<void> {
  const temp = join(dirname(dir), `.${basename(dir)}.export-${randomBytes(6).toString('hex')}`);
  await mkdir(dirname(dir), { recursive: true });
  await mkdir(temp, { mode: DIR_MODE });
  try {
    const names = [...files.keys()];
    for (let i = 0; i < names.length; i += WRITE_BATCH) {
      await Promise.all(
        names
          .slice(i, i + WRITE_BATCH)
          .map((name) => writeSynced(join(temp, name), JSON.stringify(files.get(name), BufferJSON.replacer))),
      );
    }
    await syncDir(temp);
    await rename(temp, dir); // replaces an empty folder, fails on a non-empty one
    await syncDir(dirname(dir));
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
}

async function writeSynced(path: string, data: string): Promise<void> {
  const fh = await open(path, 'wx', FILE_MODE);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
