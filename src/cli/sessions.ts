/**
 * `accounts import`, `export` and `move-store`: the commands that work on the
 * credential store directly, not through a gateway. Credentials never travel over the
 * command subjects, and the account must not be running: the file store's lock says so;
 * for the KV store the command asks the account's `status` first (docs/cli.md).
 */
import { resolve } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { authStoresFor, type AuthStoreKind, type AuthStores } from '../baileys/auth-stores.js';
import { moveSession } from '../baileys/move-store.js';
import { exportSession, importSession } from '../baileys/session-folder.js';
import { natsConnectionOptions } from '../bootstrap/nats.js';
import { cmdSubject, WaError } from '../contract/index.js';
import type { Io } from './commands.js';
import { loadCliConfig, type GlobalOptions } from './session.js';

export type SessionCliOptions = { dataDir?: string; json?: boolean };
/** A gateway running the account answers its `status` within this; silence: none runs it. */
const RUNNING_CHECK_MS = 1_500;

type Where = { store: AuthStoreKind; dataDir: string };

/**
 * The configured store (`auth.store`, or `kind`); `--data-dir` else the gateway's own
 * (`dataDir` of --config / WA_CONND_DATA_DIR / `.data`). NATS is connected only for kv.
 */
async function withStores<T>(
  g: GlobalOptions,
  o: SessionCliOptions,
  account: string,
  fn: (stores: (kind?: AuthStoreKind) => Promise<AuthStores>, where: Where) => Promise<T>,
): Promise<T> {
  const loaded = loadCliConfig(g);
  const config = { ...loaded, dataDir: resolve(o.dataDir ?? loaded.dataDir) };
  let nc: NatsConnection | undefined;
  const natsConn = async () => {
    if (!nc) {
      nc = await connect({ ...natsConnectionOptions(config), name: 'wa-connd-cli', maxReconnectAttempts: 0 });
      await assertNotRunning(nc, account);
    }
    return nc;
  };
  try {
    const stores = async (kind?: AuthStoreKind) =>
      (kind ?? config.auth.store) === 'file'
        ? authStoresFor(config, undefined, { kind: 'file' })
        : authStoresFor(config, await natsConn(), { kind: 'kv' });
    return await fn(stores, { store: config.auth.store, dataDir: config.dataDir });
  } finally {
    await (nc as NatsConnection | undefined)?.close();
  }
}

/** KV has no lock file: a gateway that runs (or is adopting) the account answers its status. */
async function assertNotRunning(nc: NatsConnection, account: string): Promise<void> {
  let reply: { ok?: boolean; error?: { code?: string } };
  try {
    const m = await nc.request(cmdSubject(account, 'status'), new Uint8Array(), { timeout: RUNNING_CHECK_MS });
    reply = m.json();
  } catch {
    return; // no responders or silence: no gateway serves the account
  }
  if (reply.ok === true || reply.error?.code === 'unavailable')
    throw new WaError(
      'unavailable',
      `a gateway runs ${account}: remove it there first (wa-connd accounts remove ${account}) or stop that gateway`,
    );
}

const whereText = (w: Where) => (w.store === 'file' ? w.dataDir : 'NATS KV WA_AUTH');

export async function accountsImport(
  g: GlobalOptions,
  io: Io,
  account: string,
  dir: string,
  o: SessionCliOptions & { force?: boolean },
): Promise<void> {
  await withStores(g, o, account, async (stores, where) => {
    const r = {
      ...(await importSession(await stores(), account, resolve(dir), { force: o.force ?? false })),
      store: where.store,
      ...(where.store === 'file' ? { dataDir: where.dataDir } : {}),
    };
    // The store is named: the relative default (.data) in the wrong directory is an easy mistake.
    io.out.write(
      o.json
        ? `${JSON.stringify(r)}\n`
        : `imported ${r.account}: device ${r.me}, ${r.keys} keys, into ${whereText(where)} (start it: wa-connd accounts add ${r.account}, or restart the gateway)\n`,
    );
  });
}

export async function accountsExport(
  g: GlobalOptions,
  io: Io,
  account: string,
  dir: string,
  o: SessionCliOptions,
): Promise<void> {
  await withStores(g, o, account, async (stores) => {
    const r = await exportSession(await stores(), account, resolve(dir));
    io.out.write(
      o.json ? `${JSON.stringify(r)}\n` : `exported ${r.account}: device ${r.me}, ${r.keys} keys to ${r.dir}\n`,
    );
  });
}

export async function accountsMoveStore(
  g: GlobalOptions,
  io: Io,
  account: string,
  o: SessionCliOptions & { to: string },
): Promise<void> {
  if (o.to !== 'kv' && o.to !== 'file') throw new WaError('bad_request', `--to: kv or file, not ${o.to}`);
  const to: AuthStoreKind = o.to;
  const from: AuthStoreKind = to === 'kv' ? 'file' : 'kv';
  await withStores(g, o, account, async (stores, where) => {
    const r = { ...(await moveSession(await stores(from), await stores(to), account)), from, to };
    const set = to === where.store ? '' : ` (set auth.store: ${to} before the gateway runs it again)`;
    io.out.write(
      o.json ? `${JSON.stringify(r)}\n` : `moved ${r.account}: device ${r.me}, ${r.keys} keys, ${from} → ${to}${set}\n`,
    );
  });
}
