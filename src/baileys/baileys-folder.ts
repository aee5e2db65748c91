/**
 * The Baileys multi-file auth folder format (Baileys 7.0.0-rc14,
 * lib/Utils/use-multi-file-auth-state.js): which files it writes, how a key's file name
 * encodes its type and id, and reading a whole folder with every defect a `WaError`.
 * Import and export (session-folder.ts) build on it.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BufferJSON,
  type AuthenticationCreds,
  type SignalDataSet,
  type SignalDataTypeMap,
} from '@whiskeysockets/baileys';
import { WaError } from '../contract/errors.js';

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

export const CREDS_FILE = 'creds.json';
/** Longest first, so `sender-key-memory-…` is not read as a `sender-key` with id `memory-…`. */
const TYPES_BY_LENGTH = [...KEY_TYPES].sort((a, b) => b.length - a.length);
/** How many offending names an error lists. */
const NAMES_SHOWN = 5;

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

export async function isDir(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}

export function listNames(names: string[]): string {
  const shown = names.slice(0, NAMES_SHOWN).join(', ');
  return names.length > NAMES_SHOWN ? `${shown}, …` : shown;
}
