/**
 * Baileys credentials per account on disk: `<dataDir>/<account>/creds.json` plus one
 * file per signal key, like Baileys' `useMultiFileAuthState`, but safe to crash in and
 * safe with many accounts at once (design brief: "credential files corrupted by
 * concurrent writes" is a known field failure).
 *
 * - Every write is write-temp → fsync → rename → fsync(dir): a reader, or a restart
 *   after SIGKILL or power loss, sees the old file or the new one, never a torn one.
 *   This costs ~1.3 ms per key file and Baileys writes several per message, so a send
 *   is 2–3× slower than on an in-memory store (bench/send-path). Key files could skip
 *   the fsync (rename alone survives SIGKILL); not done yet: it needs the send-path bench
 *   re-run, and a first try coincided with a flaky inbound test that turned out to be a
 *   Baileys race on back-to-back prekey messages (recovered by retry receipt, which the
 *   simulator answers too).
 *   Temp names are unique per write, so two writes never share a temp file.
 * - Writes to one file are applied in call order (a per-file queue): with plain
 *   concurrent renames an older `saveCreds` could land after a newer one.
 * - One writer per account: `<account>/.lock` holds the owner's pid, created with
 *   O_EXCL. A second opener, in this process or another, is refused with
 *   `unavailable`; a lock whose pid is dead (crash) is taken over. Residual race: two
 *   processes taking over the same *stale* lock at the same instant may both win;
 *   then the later one's fence markers stop the other's events (docs/architecture.md;
 *   a NATS lease deciding one owner per account is planned, not built).
 * - Files 0600, account dir 0700: these are the keys to a WhatsApp account.
 * - A corrupt creds.json is an error, never silently replaced by fresh credentials
 *   (Baileys' version does that, which unpairs the account without a word).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type AuthenticationCreds,
  type AuthenticationState,
  BufferJSON,
  initAuthCreds,
  proto,
  type SignalDataSet,
  type SignalDataTypeMap,
} from '@whiskeysockets/baileys';
import { WaError } from '../contract/errors.js';
import { assertAccountId } from '../contract/subjects.js';
import { KeyQueue } from './key-queue.js';

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const CREDS_FILE = 'creds.json';
const LOCK_FILE = '.lock';
const TEMP_SUFFIX = '.tmp';

export type AuthStoreOptions = {
  /** Called when a key file cannot be parsed; the key then reads as absent. */
  onCorruptKey?: (file: string, err: unknown) => void;
};

export type AuthStore = {
  /** Hand to `makeWASocket({ auth: state })`. */
  state: AuthenticationState;
  /** Call on Baileys' `creds.update`. */
  saveCreds: () => Promise<void>;
  /** Operator-requested logout: delete every credential and key; creds start fresh. */
  clear: () => Promise<void>;
  /** Wait for pending writes and release the lock. */
  close: () => Promise<void>;
  /** Every signal key held, as `[type, id]` (for export: Baileys' key store cannot list). */
  listKeys: () => Promise<[type: string, id: string][]>;
};

export async function openAuthStore(
  dataDir: string,
  account: string,
  options: AuthStoreOptions = {},
): Promise<AuthStore> {
  assertAccountId(account); // also keeps `account` from naming a path outside dataDir
  const dir = join(dataDir, account);
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  await chmod(dir, DIR_MODE); // mkdir's mode is masked by umask and ignored if it existed
  const releaseLock = await acquireLock(dir, account);

  try {
    await removeLeftoverTemps(dir); // from writes cut short by a crash; we own the dir now
    const creds = (await readJson<AuthenticationCreds>(dir, CREDS_FILE)) ?? initAuthCreds();
    const queue = new KeyQueue();
    let closed = false;

    const write = (file: string, value: unknown, durable: boolean) => {
      if (closed) return Promise.reject(new WaError('unavailable', `auth store of ${account} is closed`));
      return queue.run(file, () => writeAtomic(dir, file, JSON.stringify(value, BufferJSON.replacer), durable));
    };
    const remove = (file: string) => queue.run(file, () => unlink(join(dir, file)).catch(ignoreMissing));

    const state: AuthenticationState = {
      creds,
      keys: {
        get: async <T extends keyof SignalDataTypeMap>(type: T, ids: string[]) => {
          const out: { [id: string]: SignalDataTypeMap[T] } = {};
          await Promise.all(
            ids.map(async (id) => {
              const file = keyFile(type, id);
              // Reads queue behind pending writes of the same file: read-your-writes.
              let value = await queue.run(file, () => readKey(dir, file, options));
              if (value === undefined) return;
              if (type === 'app-state-sync-key') value = proto.Message.AppStateSyncKeyData.fromObject(value as object);
              out[id] = value as SignalDataTypeMap[T];
            }),
          );
          return out;
        },
        set: async (data: SignalDataSet) => {
          const tasks: Promise<void>[] = [];
          for (const [type, entries] of Object.entries(data)) {
            for (const [id, value] of Object.entries(entries ?? {})) {
              const file = keyFile(type, id);
              tasks.push(value ? write(file, value, true) : remove(file));
            }
          }
          await Promise.all(tasks);
        },
      },
    };

    return {
      state,
      saveCreds: () => write(CREDS_FILE, state.creds, true),
      clear: async () => {
        await queue.idle();
        for (const name of await readdir(dir)) {
          if (name !== LOCK_FILE) await rm(join(dir, name), { force: true, recursive: true });
        }
        await fsyncDir(dir);
        state.creds = initAuthCreds();
      },
      listKeys: async () => {
        await queue.idle();
        return (await readdir(dir)).flatMap((name) => {
          if (name === CREDS_FILE || name.startsWith('.')) return [];
          const key = parseKeyFile(name);
          // Never drop a key silently: an export missing it would lose a session.
          if (!key) throw new WaError('internal', `${name} in ${dir} is not a key file of this store`);
          return [key];
        });
      },
      close: async () => {
        if (closed) return;
        closed = true;
        await queue.idle();
        await releaseLock();
      },
    };
  } catch (err) {
    await releaseLock();
    throw err;
  }
}

/**
 * Key ids contain `:`, `/`, `@` (`123:4@lid`, sender keys of groups). Percent-encode
 * everything but a safe set so the mapping is injective (Baileys maps both `:` and
 * `-` to `-`) and no id can produce a path separator or a dot file.
 */
export function keyFile(type: string, id: string): string {
  const enc = (s: string) => s.replace(/[^A-Za-z0-9_@-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `${enc(type)}~${enc(id)}.json`;
}

/** The inverse of `keyFile`; null for anything else (creds.json, the lock, temp files). */
export function parseKeyFile(name: string): [type: string, id: string] | null {
  const m = /^([A-Za-z0-9_@%-]+)~([A-Za-z0-9_@%-]+)\.json$/.exec(name);
  if (!m) return null;
  const dec = (s: string) =>
    s.replace(/%([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
  const key: [string, string] = [dec(m[1]!), dec(m[2]!)];
  return keyFile(...key) === name ? key : null; // `keyFile` writes 2 hex digits only below U+0100
}

/** `durable`: fsync the file before and the directory after the rename (power-loss safe). */
async function writeAtomic(dir: string, file: string, data: string, durable: boolean): Promise<void> {
  const temp = join(dir, `.${file}.${process.pid}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
  try {
    const fh = await open(temp, 'wx', FILE_MODE);
    try {
      await fh.writeFile(data);
      if (durable) await fh.sync(); // data on disk before the rename makes it visible
    } finally {
      await fh.close();
    }
    await rename(temp, join(dir, file));
    if (durable) await fsyncDir(dir); // the rename itself survives a power loss
  } catch (err) {
    await unlink(temp).catch(ignoreMissing);
    throw err;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function readJson<T>(dir: string, file: string): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(join(dir, file), 'utf8');
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
  try {
    return JSON.parse(text, BufferJSON.reviver) as T;
  } catch (cause) {
    throw new WaError(
      'internal',
      `${file} in ${dir} is not valid JSON; refusing to replace it with fresh credentials`,
      { cause },
    );
  }
}

async function readKey(dir: string, file: string, options: AuthStoreOptions): Promise<unknown> {
  try {
    return (await readJson<unknown>(dir, file)) ?? undefined;
  } catch (err) {
    options.onCorruptKey?.(file, err);
    return undefined;
  }
}

async function removeLeftoverTemps(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.startsWith('.') && name.endsWith(TEMP_SUFFIX)) await unlink(join(dir, name)).catch(ignoreMissing);
  }
}

async function acquireLock(dir: string, account: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  const token = `${process.pid} ${randomBytes(8).toString('hex')}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx', FILE_MODE);
      await fh.writeFile(token);
      await fh.close();
      return async () => {
        // Only remove the lock if it is still ours (clear() or an operator may not).
        const current = await readFile(path, 'utf8').catch(() => '');
        if (current === token) await unlink(path).catch(ignoreMissing);
      };
    } catch (err) {
      if (!isExists(err)) throw err;
    }
    const owner = Number.parseInt((await readFile(path, 'utf8').catch(() => '')).split(' ')[0] ?? '', 10);
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
      throw new WaError(
        'unavailable',
        `credentials of ${account} are in use by process ${owner}${owner === process.pid ? ' (this one)' : ''}`,
      );
    }
    await unlink(path).catch(ignoreMissing); // stale: its process is gone
  }
  throw new WaError('unavailable', `could not lock the credentials of ${account}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else; still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException)?.code === 'ENOENT';
const isExists = (err: unknown) => (err as NodeJS.ErrnoException)?.code === 'EEXIST';
function ignoreMissing(err: unknown): void {
  if (!isMissing(err)) throw err;
}
