/**
 * `accounts import` and `accounts export`: the two commands that work on the data dir
 * directly, not through a gateway. Credentials never travel over NATS, and the account
 * must not be running anyway (the store's lock says so); docs/cli.md says why.
 */
import { resolve } from 'node:path';
import { exportSession, fileSessionStores, importSession } from '../baileys/session-folder.js';
import type { Io } from './commands.js';
import { loadCliConfig, type GlobalOptions } from './session.js';

export type SessionCliOptions = { dataDir?: string; json?: boolean };

/** `--data-dir`, else the gateway's own (`dataDir` of --config / WA_CONND_DATA_DIR / `.data`). */
function dataDirOf(g: GlobalOptions, o: SessionCliOptions): string {
  return resolve(o.dataDir ?? loadCliConfig(g).dataDir);
}

export async function accountsImport(
  g: GlobalOptions,
  io: Io,
  account: string,
  dir: string,
  o: SessionCliOptions & { force?: boolean },
): Promise<void> {
  const dataDir = dataDirOf(g, o);
  const r = {
    ...(await importSession(fileSessionStores(dataDir), account, resolve(dir), { force: o.force ?? false })),
    dataDir,
  };
  // The data dir is named: the relative default (.data) in the wrong directory is an easy mistake.
  io.out.write(
    o.json
      ? `${JSON.stringify(r)}\n`
      : `imported ${r.account}: device ${r.me}, ${r.keys} keys, into ${dataDir} (start it: wa-connd accounts add ${r.account}, or restart the gateway)\n`,
  );
}

export async function accountsExport(
  g: GlobalOptions,
  io: Io,
  account: string,
  dir: string,
  o: SessionCliOptions,
): Promise<void> {
  const r = await exportSession(fileSessionStores(dataDirOf(g, o)), account, resolve(dir));
  io.out.write(
    o.json ? `${JSON.stringify(r)}\n` : `exported ${r.account}: device ${r.me}, ${r.keys} keys to ${r.dir}\n`,
  );
}
