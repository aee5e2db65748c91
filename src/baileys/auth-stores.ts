/**
 * The one place that decides where an account's credentials live (`auth.store`):
 * - `kv` (default): NATS KV `WA_AUTH` (auth-kv.ts), replicated like `WA_EVENTS`,
 *   optionally encrypted (`auth.encryptionKeyFile` / `WA_CONND_AUTH_KEY`, auth-codec.ts);
 * - `file`: the fsynced folder per account under `dataDir` (auth-store.ts), for one box.
 * The gateway, `accounts import|export|move-store` and the demo all open stores here.
 *
 * Upgrade path: with `kv`, an account that has no credentials in KV but a folder in the
 * data dir (a gateway that ran with `file`, credentials written by the demo or a test)
 * is moved into KV at its first open, and the folder is emptied: one copy of a session,
 * never two (docs/architecture.md, "Auth state in NATS KV").
 */
import { Kvm, type KV } from '@nats-io/kv';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { WaError } from '../contract/errors.js';
import { retrySetup } from '../nats/setup-retry.js';
import { backoffDelay, sleep } from '../nats/waiting.js';
import { assertAccountId } from '../contract/subjects.js';
import { AUTH_BUCKET, credsKey, Keyring } from './auth-codec.js';
import { openKvAuthStore, type KvAuthStore, type StaleWriterError } from './auth-kv.js';
import { isDir } from './baileys-folder.js';
import { moveSession, type MovableStores } from './move-store.js';
import { fileSessionStores, type SessionStore } from './session-folder.js';

/** A failed open (NATS away) is retried after this, doubling up to the max: as the takeover of WA_EVENTS does. */
const OPEN_RETRY_BASE_MS = 100;
const OPEN_RETRY_MAX_MS = 2_000;

export const AUTH_STORE_KINDS = ['kv', 'file'] as const;
export type AuthStoreKind = (typeof AUTH_STORE_KINDS)[number];

export type OpenOptions = {
  /** false: `not_paired`, creating nothing, when the store has nothing for the account. */
  create: boolean;
  /** KV only: a newer writer took the account over; stop it. */
  onFenced?: (err: StaleWriterError) => void;
};

export interface AuthStores extends MovableStores {
  readonly kind: AuthStoreKind;
  open(account: string, options: OpenOptions): Promise<SessionStore>;
}

export type KvStoresOptions = {
  nc: NatsConnection;
  /** WA_AUTH replicas: the streams' (`stream.replicas`, 1 for one server, 3 in a cluster). */
  replicas: number;
  keyring: Keyring;
  /** Data dir of the file store, for the one-time move of accounts still there; none: no move. */
  dataDir?: string;
  /** Written into the writer record (who holds the account); a random id when absent. */
  writer?: string;
  logger?: Logger;
};

/** Creates `WA_AUTH` if needed (history 1, file storage) and opens stores in it. */
export async function kvSessionStores(o: KvStoresOptions): Promise<AuthStores> {
  const js = jetstream(o.nc);
  const jsm: JetStreamManager = await retrySetup('JetStream', () => jetstreamManager(o.nc), o.logger);
  const kv: KV = await retrySetup(
    AUTH_BUCKET,
    () => new Kvm(js).create(AUTH_BUCKET, { history: 1, replicas: o.replicas, storage: 'file' }),
    o.logger,
  );
  const writer = o.writer ?? `w${randomBytes(6).toString('hex')}`;
  const hasCreds = async (account: string) => (await kv.get(credsKey(account)))?.operation === 'PUT';
  const direct: AuthStores = {
    kind: 'kv',
    open: async (account, { create, onFenced }) => {
      assertAccountId(account);
      if (!create && !(await hasCreds(account)))
        throw new WaError('not_paired', `no credentials for ${account} in NATS KV ${AUTH_BUCKET}`);
      return openKvAuthStore({ js, jsm, kv, account, keyring: o.keyring, writer, ...(onFenced ? { onFenced } : {}) });
    },
  };
  const stores: AuthStores = {
    kind: 'kv',
    open: (account, options) => retrying(account, o.logger, () => migrateAndOpen(account, options)),
  };
  const migrateAndOpen = async (account: string, options: OpenOptions) => {
    assertAccountId(account);
    if (!(await hasCreds(account)) && o.dataDir && (await isDir(join(o.dataDir, account)))) {
      const moved = await moveSession(fileStores(o.dataDir), direct, account).catch((err: unknown) => {
        if (err instanceof WaError && err.code === 'not_paired') return null; // an unpaired folder: nothing to move
        throw err;
      });
      if (moved)
        o.logger?.info({ account, keys: moved.keys }, 'credentials moved from the data dir into NATS KV (WA_AUTH)');
    }
    return direct.open(account, options);
  };
  return stores;
}

/** NATS away (a restart during start-up): retried like the takeover of WA_EVENTS, until it answers. */
async function retrying<T>(account: string, logger: Logger | undefined, open: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await open();
    } catch (err) {
      if (err instanceof WaError) throw err; // a wrong key, a newer writer, not paired: no retry fixes it
      if ((attempt & (attempt - 1)) === 0)
        logger?.warn({ account, err, failedAttempts: attempt }, 'opening the auth state in NATS KV failed; retrying');
      await sleep(backoffDelay(attempt, OPEN_RETRY_BASE_MS, OPEN_RETRY_MAX_MS));
    }
  }
}

export function fileStores(dataDir: string): AuthStores {
  const files = fileSessionStores(dataDir);
  return {
    kind: 'file',
    open: (account, { create }) => files.open(account, { create }),
    discard: async (account) => {
      assertAccountId(account);
      await rm(join(dataDir, account), { recursive: true, force: true });
    },
  };
}

/** The configured store (`auth.store`), or the other one (`kind`) for `move-store`. */
export async function authStoresFor(
  config: Pick<Config, 'auth' | 'dataDir' | 'stream'>,
  nc: NatsConnection | undefined,
  options: { kind?: AuthStoreKind; logger?: Logger; writer?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<AuthStores> {
  const kind = options.kind ?? config.auth.store;
  if (kind === 'file') return fileStores(config.dataDir);
  if (!nc) throw new WaError('internal', 'the KV auth store needs a NATS connection');
  return kvSessionStores({
    nc,
    replicas: config.stream.replicas ?? 1,
    keyring: Keyring.load(config.auth.encryptionKeyFile, options.env),
    // Only the configured store adopts the data dir's accounts; move-store moves explicitly.
    ...(options.kind === undefined ? { dataDir: config.dataDir } : {}),
    ...(options.writer ? { writer: options.writer } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

export type { KvAuthStore };
