/**
 * Baileys credentials and Signal keys of one account in NATS KV (`WA_AUTH`, one KV key
 * per Baileys key: auth-codec.ts), fenced so that only the account's current writer
 * can write (docs/architecture.md, "Auth state in NATS KV").
 *
 * - `fence()` (at open, and again by whoever decides a takeover) CAS-writes the
 *   account's writer record; the stream sequence of that write is the writer's
 *   *epoch*. It then re-writes every existing key of the account with
 *   `Nats-Expected-Last-Subject-Sequence` = the key's revision, under its epoch
 *   (`Wa-Auth-Epoch` header). Every key has then moved past what an older writer knows.
 * - Every write carries the key's revision as this writer knows it (0: absent). A
 *   stale writer's write to any existing key is refused by the server (10071). On a
 *   refusal the writer reads the key's last message: a newer epoch there means it was
 *   fenced — `StaleWriterError`, the account stops, no retry. An older epoch can only be
 *   a stale writer's create of a key this writer had not seen; it is overwritten.
 * - Values are cached (the JSON text): reads are local, a write costs one JetStream
 *   publish acked before `set` resolves; writes to different keys run in parallel.
 */
import { type JetStreamClient, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { headers } from '@nats-io/transport-node';
import {
  type AuthenticationCreds,
  type AuthenticationState,
  BufferJSON,
  initAuthCreds,
  proto,
  type SignalDataSet,
  type SignalDataTypeMap,
} from '@whiskeysockets/baileys';
import { hostname } from 'node:os';
import { WaError } from '../contract/errors.js';
import { assertAccountId } from '../contract/subjects.js';
import type { AuthStore } from './auth-store.js';
import { AUTH_BUCKET, credsKey, type Keyring, parseSignalKey, signalKey, writerKey } from './auth-codec.js';
import { isTransientWriteError } from '../nats/setup-retry.js';
import { sleep } from '../nats/waiting.js';
import { KeyQueue } from './key-queue.js';

export const AUTH_STREAM = `KV_${AUTH_BUCKET}`;
export const EPOCH_HEADER = 'Wa-Auth-Epoch';
const WRONG_LAST_SEQUENCE = 10071;
/** Keys re-written at once by a fence (an account holds ~1,000: prekeys, sessions, sender keys). */
const FENCE_CONCURRENCY = 64;
/** Conflicts one write resolves (stale creates) before it gives up. */
const MAX_CONFLICTS = 3;
/** A key write is retried this long on a timeout or a leaderless WA_AUTH (a cluster node lost): then it fails. */
const WRITE_RETRY_MS = 15_000;
const WRITE_RETRY_PAUSE_MS = 250;

/** A newer writer fenced this one off the account's auth state: stop the account, do not retry. */
export class StaleWriterError extends WaError {
  constructor(
    readonly account: string,
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(
      'unavailable',
      `auth state of ${account} is written by a newer writer (refused on ${key}): stopping`,
      options,
    );
  }
}

export type KvAuthOptions = {
  js: JetStreamClient;
  jsm: JetStreamManager;
  kv: KV;
  account: string;
  keyring: Keyring;
  /** Who writes (log and writer record only). */
  writer: string;
  publishTimeoutMs?: number;
  /** Called once, when a write is refused because a newer writer took over. */
  onFenced?: (err: StaleWriterError) => void;
};

export type KvAuthStore = AuthStore & {
  /** Takes the account over (again): new epoch, every key re-written under it. */
  fence(): Promise<void>;
  /** Stream sequence of this writer's writer record; a higher one is a newer writer. */
  readonly epoch: number;
};

type Entry = { rev: number; json: string | null };
type Last = { seq: number; epoch: number; bytes: Uint8Array | null };

export async function openKvAuthStore(o: KvAuthOptions): Promise<KvAuthStore> {
  assertAccountId(o.account);
  const s = new KvAuth(o);
  await s.fence();
  return s.api();
}

class KvAuth {
  readonly #cache = new Map<string, Entry>();
  readonly #queue = new KeyQueue();
  #epoch = 0;
  #fenced: StaleWriterError | null = null;
  #closed = false;
  readonly state: AuthenticationState;

  constructor(private readonly o: KvAuthOptions) {
    this.state = { creds: initAuthCreds(), keys: { get: (t, ids) => this.get(t, ids), set: (d) => this.set(d) } };
  }

  api(): KvAuthStore {
    const epoch = () => this.#epoch;
    return {
      state: this.state,
      saveCreds: () => this.write(credsKey(this.o.account), JSON.stringify(this.state.creds, BufferJSON.replacer)),
      clear: () => this.clear(),
      close: () => this.close(),
      listKeys: async () => {
        await this.#queue.idle();
        return [...this.#cache].flatMap(([k, e]) => {
          const key = e.json === null ? null : parseSignalKey(this.o.account, k);
          return key ? [key] : [];
        });
      },
      fence: () => this.fence(),
      get epoch() {
        return epoch();
      },
    };
  }

  async fence(): Promise<void> {
    await this.#queue.idle(); // a re-fence: this writer's own writes land first
    const wk = writerKey(this.o.account);
    const record = JSON.stringify({ writer: this.o.writer, host: hostname(), pid: process.pid, at: new Date() });
    for (;;) {
      const last = await this.last(wk);
      try {
        this.#epoch = await this.publish(wk, record, last?.seq ?? 0, false);
        break;
      } catch (err) {
        if (!isWrongLast(err)) throw err; // another writer fenced at the same instant: read again, go after it
      }
    }
    this.#fenced = null;
    this.#cache.clear();
    const keys: string[] = [];
    for await (const k of await this.o.kv.keys(`${this.o.account}.>`)) if (k !== wk) keys.push(k);
    await pool(keys, FENCE_CONCURRENCY, (k) => this.takeOver(k));
    const creds = this.#cache.get(credsKey(this.o.account))?.json;
    const fresh = creds ? (JSON.parse(creds, BufferJSON.reviver) as AuthenticationCreds) : initAuthCreds();
    for (const k of Object.keys(this.state.creds)) delete (this.state.creds as Record<string, unknown>)[k];
    Object.assign(this.state.creds, fresh);
  }

  /** Re-writes `k` under this epoch (its value as stored now), so an older writer's next write of it is refused. */
  private async takeOver(k: string): Promise<void> {
    for (;;) {
      const last = await this.last(k);
      if (last && last.epoch > this.#epoch) throw this.stale(k);
      if (!last?.bytes) {
        this.#cache.set(k, { rev: last?.seq ?? 0, json: null });
        return;
      }
      const json = this.o.keyring.decode(k, last.bytes);
      try {
        this.#cache.set(k, { rev: await this.publish(k, json, last.seq), json });
        return;
      } catch (err) {
        if (!isWrongLast(err)) throw err; // written meanwhile: take the newer value over
      }
    }
  }

  private async get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
    const out: { [id: string]: SignalDataTypeMap[T] } = {};
    const keys = ids.map((id) => [id, signalKey(this.o.account, type, id)] as const);
    // Not seen at the fence (created since by an older writer, or never): one read each, in parallel, then cached.
    // A key with a write queued is read behind it (read-your-writes).
    await Promise.all(
      keys.flatMap(([, k]) =>
        !this.#cache.has(k) || this.#queue.busy(k) ? [this.#queue.run(k, () => this.load(k))] : [],
      ),
    );
    for (const [id, k] of keys) {
      const json = this.#cache.get(k)?.json;
      if (json == null) continue;
      const value: unknown = JSON.parse(json, BufferJSON.reviver);
      out[id] = (
        type === 'app-state-sync-key' ? proto.Message.AppStateSyncKeyData.fromObject(value as object) : value
      ) as SignalDataTypeMap[T];
    }
    return out;
  }

  private async load(k: string): Promise<void> {
    if (!this.#cache.has(k)) await this.takeOver(k);
  }

  private async set(data: SignalDataSet): Promise<void> {
    const writes: Promise<void>[] = [];
    for (const [type, entries] of Object.entries(data))
      for (const [id, value] of Object.entries(entries ?? {}))
        writes.push(
          this.write(signalKey(this.o.account, type, id), value ? JSON.stringify(value, BufferJSON.replacer) : null),
        );
    await Promise.all(writes);
  }

  /** `json` null: delete. In call order per key; resolves once JetStream stored it. */
  private write(k: string, json: string | null): Promise<void> {
    if (this.#fenced) return Promise.reject(this.#fenced);
    if (this.#closed) return Promise.reject(new WaError('unavailable', `auth store of ${this.o.account} is closed`));
    return this.#queue.run(k, async () => {
      if (this.#fenced) throw this.#fenced;
      if (!this.#cache.has(k)) await this.takeOver(k);
      let expected = this.#cache.get(k)!.rev;
      if (json === null && this.#cache.get(k)!.json === null) return;
      const giveUpAt = Date.now() + WRITE_RETRY_MS;
      for (let conflicts = 0; ; conflicts++) {
        try {
          this.#cache.set(k, { rev: await this.publish(k, json, expected), json });
          return;
        } catch (err) {
          // Stored but unacknowledged is possible: the next try then meets wrong-last, handled below as ours.
          if (isTransientWriteError(err) && Date.now() < giveUpAt && !this.#fenced) {
            conflicts--;
            await sleep(WRITE_RETRY_PAUSE_MS);
            continue;
          }
          if (!isWrongLast(err) || conflicts >= MAX_CONFLICTS) throw err;
          const last = await this.last(k);
          if (!last || last.epoch > this.#epoch) throw this.stale(k, err);
          // Ours (a publish whose ack was lost) or an older writer's create of a key unseen here: overwrite.
          expected = last.seq;
        }
      }
    });
  }

  private async clear(): Promise<void> {
    await this.#queue.idle();
    await pool([...this.#cache.keys()], FENCE_CONCURRENCY, (k) => this.write(k, null));
    Object.assign(this.state.creds, initAuthCreds());
  }

  private async close(): Promise<void> {
    this.#closed = true;
    await this.#queue.idle();
  }

  private stale(k: string, cause?: unknown): StaleWriterError {
    if (!this.#fenced) {
      this.#fenced = new StaleWriterError(this.o.account, k, { cause });
      this.o.onFenced?.(this.#fenced);
    }
    return this.#fenced;
  }

  private async publish(k: string, json: string | null, expected: number, encode = true): Promise<number> {
    const h = headers();
    h.set(EPOCH_HEADER, String(this.#epoch));
    if (json === null) h.set('KV-Operation', 'DEL');
    const body = json === null ? undefined : encode ? this.o.keyring.encode(k, json) : new TextEncoder().encode(json);
    const ack = await this.o.js.publish(`$KV.${AUTH_BUCKET}.${k}`, body, {
      headers: h,
      expect: { lastSubjectSequence: expected },
      timeout: this.o.publishTimeoutMs ?? 5_000,
    });
    return ack.seq;
  }

  /** The key's last message (value or delete marker), with the epoch that wrote it. */
  private async last(k: string): Promise<Last | null> {
    const m = await this.o.jsm.streams.getMessage(AUTH_STREAM, { last_by_subj: `$KV.${AUTH_BUCKET}.${k}` });
    if (!m) return null;
    const op = m.header?.get('KV-Operation');
    return {
      seq: m.seq,
      epoch: Number(m.header?.get(EPOCH_HEADER) || 0),
      bytes: op === 'DEL' || op === 'PURGE' ? null : m.data,
    };
  }
}

function isWrongLast(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE;
}

async function pool<T>(items: T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}
