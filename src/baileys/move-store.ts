/**
 * Moves an account's credentials and keys from one store to another (file ⇄ NATS KV):
 * `wa-connd accounts move-store`, and the gateway's one-time move of data-dir accounts
 * into KV (auth-stores.ts). The target is written first, creds last (a crash half-way
 * leaves the source whole and the target without creds: run it again); only then is the
 * source cleared, so a session never lives in two stores at once for longer than the move.
 */
import type { SignalDataSet, SignalDataTypeMap } from '@whiskeysockets/baileys';
import { WaError } from '../contract/errors.js';
import type { SessionStore, SessionStores } from './session-folder.js';

/** Keys written at once. */
const BATCH = 128;

export type MoveResult = { account: string; me: string; keys: number };

export interface MovableStores extends SessionStores {
  /** Removes what is left of the account in this store after a move (the file store's empty folder). */
  discard?(account: string): Promise<void>;
}

export async function moveSession(from: MovableStores, to: SessionStores, account: string): Promise<MoveResult> {
  const source = await from.open(account, { create: false });
  let moved: MoveResult;
  try {
    const me = source.state.creds.me?.id;
    if (me === undefined) throw new WaError('not_paired', `${account} has no paired credentials to move`);
    const target = await to.open(account, { create: true });
    try {
      const other = target.state.creds.me?.id;
      if (other !== undefined)
        throw new WaError('conflict', `${account} already has credentials (device ${other}) in the target store`);
      await target.clear();
      const keys = await copyKeys(source, target);
      target.state.creds = source.state.creds;
      await target.saveCreds();
      moved = { account, me, keys };
    } finally {
      await target.close();
    }
    await source.clear();
  } finally {
    await source.close();
  }
  await from.discard?.(account);
  return moved;
}

async function copyKeys(source: SessionStore, target: SessionStore): Promise<number> {
  const byType = new Map<string, string[]>();
  for (const [type, id] of await source.listKeys()) byType.set(type, [...(byType.get(type) ?? []), id]);
  let n = 0;
  for (const [type, ids] of byType) {
    for (let i = 0; i < ids.length; i += BATCH) {
      const values = await source.state.keys.get(type as keyof SignalDataTypeMap, ids.slice(i, i + BATCH));
      await target.state.keys.set({ [type]: values } as SignalDataSet);
      n += Object.keys(values).length;
    }
  }
  return n;
}
