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
 * `SessionStores` — the file store today (`fileSessionStores`); a store in NATS KV can
 * plug in by implementing the same calls (open with the lock, `state`, `clear`,
 * `saveCreds`, `listKeys`, `close`). See docs/cli.md ("accounts import").
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  BufferJSON,
  type AuthenticationCreds,
  type SignalDataSet,
  type SignalDataTypeMap,
} from '@whiskeysockets/baileys';
import { WaError } from '../contract/errors.js';
import { assertAccountId } from '../contract/subjects.js';
import { openAuthStore, type AuthStore } from './auth-store.js';

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

/** Every key type of Baileys 7.0.0-rc14; a file of any other type is refused, not dropped. */
const KEY_TYPES = [
  'pre-key',
  'session',
  'sender-key',
  'sender-key-memory',
  'app-state-sync-key',
  'app-state-sync-version',
  'lid-mapping',
  'device-list',
  'tctoken',
  'identity-key',
] as const satisfies readonly (keyof SignalDataTypeMap)[];
type KeyType = (typeof KEY_TYPES)[number];
// Compile-time check that the list is complete: a key type a new Baileys adds fails the build here.
const KEY_TYPES_COMPLETE: [Exclude<keyof SignalDataTypeMap, KeyType>] extends [never] ? true : never = true;
void KEY_TYPES_COMPLETE;

const CREDS_FILE = 'creds.json';
/** Longest first, so `sender-key-memory-…` is not read as a `sender-key` with id `memory-…`. */
const TYPES_BY_LENGTH = [...KEY_TYPES].sort((a, b) => b.length - a.length);
/** Writes in flight at once: a folder can hold thousands of keys, each write opens a file. */
const WRITE_BATCH = 128;
/** How many offending names an error lists. */
const NAMES_SHOWN = 5;
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** Baileys' file name for a key or creds (its `fixFileName`). */
export function baileysFileName(file: string): string {
  return file.replace(/\//g, '__').replace(/:/g, '-');
}

/**
 * A key id from the id part of a Baileys file name. Baileys' naming loses `:` and `/`,
 * so each type's id shape puts them back: app-state key ids are base64 (`/` → `__`, and
 * base64 has no `_`); sender-key ids are `<group>::<user>::<device>`; a user JID with a
 * device (`123:4@s.whatsapp.net`) has no `-` of its own. Every other id (signal
 * addresses `123.0`, group JIDs, numbers, `__index`) contains neither.
 */
function keyIdOf(type: KeyType, part: string): string {
  if (type === 'app-state-sync-key') return part.replace(/__/g, '/');
  if (type === 'sender-key') return part.replace(/^(.+)--([^-]+)--(\d+)$/, '$1::$2::$3');
  return part.replace(/^(\d+)-(\d+)@(s\.whatsapp\.net|lid|hosted|hosted\.lid|c\.us)$/, '$1:$2@$3');
}

/** `[type, id]` of a key file's name, or null when it is not one Baileys would write. */
export function parseBaileysKeyFile(name: string): [KeyType, string] | null {
  for (const type of TYPES_BY_LENGTH) {
    const m = new RegExp(`^${type}-(.+)\\.json$`).exec(name);
    if (!m) continue;
    const id = keyIdOf(type, m[1]!);
    // Only names Baileys itself would give this id: anything else is not its folder.
    return baileysFileName(`${type}-${id}.json`) === name ? [type, id] : null;
  }
  return null;
}

export type SessionSnapshot = { creds: AuthenticationCreds; keys: SignalDataSet };

/** Reads and validates a whole Baileys folder; any defect is a `WaError` and nothing is read further. */
export async function readBaileysFolder(dir: string): Promise<SessionSnapshot> {
  const st = await stat(dir).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new WaError('bad_request', `no folder at ${dir}`);
    throw err;
  });
  if (!st.isDirectory())
    throw new WaError(
      'bad_request',
      `${dir} is not a folder; give the folder Baileys' useMultiFileAuthState was called with`,
    );

  const entries = await readdir(dir, { withFileTypes: true });
  const unknown: string[] = [];
  const keyFiles: [KeyType, string, string][] = [];
  let hasCreds = false;
  for (const e of entries) {
    if (e.isFile() && e.name === CREDS_FILE) hasCreds = true;
    else {
      const key = e.isFile() ? parseBaileysKeyFile(e.name) : null;
      if (key) keyFiles.push([...key, e.name]);
      else unknown.push(e.name);
    }
  }
  if (!hasCreds)
    throw new WaError(
      'bad_request',
      `no ${CREDS_FILE} in ${dir}: not a Baileys auth folder (or an incomplete copy of one)`,
    );
  if (unknown.length > 0) {
    throw new WaError(
      'bad_request',
      `${dir} holds ${unknown.length} file(s) Baileys' useMultiFileAuthState does not write (${listNames(unknown)}): not a Baileys auth folder, or something else in it; move them out and retry`,
    );
  }

  const creds = await readValue(dir, CREDS_FILE);
  checkCreds(creds, dir);
  const keys: Record<string, Record<string, unknown>> = {};
  for (const [type, id, name] of keyFiles) {
    const value = await readValue(dir, name);
    if (value === null || value === undefined) throw new WaError('bad_request', `${name} in ${dir} holds no value`);
    (keys[type] ??= {})[id] = value;
  }
  return { creds, keys: keys as SignalDataSet };
}

async function readValue(dir: string, name: string): Promise<unknown> {
  const text = await readFile(join(dir, name), 'utf8');
  try {
    return JSON.parse(text, BufferJSON.reviver) as unknown;
  } catch {
    throw new WaError(
      'bad_request',
      `${name} in ${dir} is not valid JSON (truncated or damaged copy?); nothing was imported`,
    );
  }
}

/** The fields Baileys needs to log in without pairing; `not_paired` when it never paired. */
function checkCreds(creds: unknown, dir: string): asserts creds is AuthenticationCreds {
  const c = creds as Partial<AuthenticationCreds> | null;
  const missing = [
    isKeyPair(c?.noiseKey) ? null : 'noiseKey',
    isKeyPair(c?.signedIdentityKey) ? null : 'signedIdentityKey',
    isKeyPair(c?.signedPreKey?.keyPair) ? null : 'signedPreKey',
    typeof c?.registrationId === 'number' ? null : 'registrationId',
    typeof c?.advSecretKey === 'string' ? null : 'advSecretKey',
  ].filter((f) => f !== null);
  if (missing.length > 0)
    throw new WaError('bad_request', `${CREDS_FILE} in ${dir} is not Baileys credentials (no ${missing.join(', ')})`);
  // Baileys logs in (rather than registering a new device) when `me` is set; `account`
  // is the phone's signature of this device, set by the same pair-success.
  if (typeof c?.me?.id !== 'string' || !c.account) {
    throw new WaError(
      'not_paired',
      `${CREDS_FILE} in ${dir} belongs to a device that never finished pairing (no me.id or account); pair with wa-connd instead`,
    );
  }
}

function isKeyPair(v: unknown): boolean {
  const k = v as { public?: unknown; private?: unknown } | undefined;
  return k?.public instanceof Uint8Array && k.private instanceof Uint8Array;
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

async function isDir(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}

function listNames(names: string[]): string {
  const shown = names.slice(0, NAMES_SHOWN).join(', ');
  return names.length > NAMES_SHOWN ? `${shown}, …` : shown;
}
