/**
 * Credentials in tests: in-memory auth state for a Baileys client or the runtime, and
 * provisioned credentials written into a gateway's data dir, both seeded from the
 * simulator's provisioning as a client reading its control API would see them.
 */
import {
  BufferJSON,
  initAuthCreds,
  type AuthenticationCreds,
  type SignalDataSet,
  type SignalDataTypeMap,
  type SignalKeyStore,
} from '@whiskeysockets/baileys';
import { importCredentials } from '../../src/baileys/import-credentials.js';
import { toBufferJson } from '../../src/simulator/index.js';

export interface MemoryAuth {
  creds: AuthenticationCreds;
  keys: SignalKeyStore;
  data: Map<string, unknown>;
}

/** In-memory auth state; `keys` may be seeded with provisioning's `keys`. */
export function memoryAuth(
  creds: AuthenticationCreds = initAuthCreds(),
  seed: Record<string, Record<string, unknown>> = {},
): MemoryAuth {
  const data = new Map<string, unknown>();
  for (const [type, entries] of Object.entries(seed))
    for (const [id, v] of Object.entries(entries)) data.set(`${type}/${id}`, v);
  const keys: SignalKeyStore = {
    get: <T extends keyof SignalDataTypeMap>(type: T, ids: string[]) => {
      const out: { [id: string]: SignalDataTypeMap[T] } = {};
      for (const id of ids) {
        const v = data.get(`${type}/${id}`);
        if (v !== undefined) out[id] = v as SignalDataTypeMap[T];
      }
      return out;
    },
    set: (set: SignalDataSet) => {
      for (const [type, entries] of Object.entries(set)) {
        for (const [id, v] of Object.entries(entries ?? {})) {
          if (v === null || v === undefined) data.delete(`${type}/${id}`);
          else data.set(`${type}/${id}`, v);
        }
      }
    },
  };
  return { creds, keys, data };
}

/** Round-trips provisioned credentials through BufferJSON, as a client reading them from the
 * control API would. */
export function fromBufferJson<T>(value: unknown): T {
  return JSON.parse(toBufferJson(value), BufferJSON.reviver) as T;
}

/** Writes a simulator's provisioned credentials where the gateway's auth store reads them (as the demo does, through `src/baileys/`). */
export async function writeCredentials(
  dataDir: string,
  account: string,
  provisioned: { creds: AuthenticationCreds; keys: unknown },
): Promise<void> {
  await importCredentials(dataDir, account, {
    creds: toBufferJson(provisioned.creds),
    keys: toBufferJson(provisioned.keys),
  });
}
