/**
 * Credentials made elsewhere — a simulator's provisioning, in the BufferJSON text its
 * control API serves — written where the gateway's auth store reads them, so the
 * account starts paired (docs/simulator.md, "Provisioned credentials in a gateway's
 * data dir"). Through the auth store: the same files, modes and lock as the gateway's.
 */
import { BufferJSON, type AuthenticationCreds, type SignalDataSet } from '@whiskeysockets/baileys';
import { openAuthStore } from './auth-store.js';

export type CredentialsJson = {
  /** BufferJSON text of Baileys' AuthenticationCreds. */
  creds: string;
  /** BufferJSON text of a SignalDataSet (sessions, prekeys …). */
  keys: string;
};

export async function importCredentials(dataDir: string, account: string, json: CredentialsJson): Promise<void> {
  const store = await openAuthStore(dataDir, account);
  try {
    Object.assign(store.state.creds, JSON.parse(json.creds, BufferJSON.reviver) as AuthenticationCreds);
    await store.saveCreds();
    await store.state.keys.set(JSON.parse(json.keys, BufferJSON.reviver) as SignalDataSet);
  } finally {
    await store.close(); // releases the lock for the gateway
  }
}
