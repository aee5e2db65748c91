// Account provisioning: a pre-registered companion device and the Baileys credentials a
// client needs to log in without pairing (ClientPayload.username/device from `me.id`). Tests
// and benchmarks with hundreds of accounts use this instead of QR pairing.
import { Curve, createSignalIdentity, initAuthCreds, type AuthenticationCreds, type KeyPair } from '../wa.js';
import { addDeviceSignature, signDeviceIdentity } from './adv.js';
import { RETAINED_PREKEYS, accountJid, accountLidJid, type Account, type AccountRegistry } from './account.js';

/** Platform name the primary phone reports in pair-success (Baileys stores it in creds). */
export const PRIMARY_PLATFORM = 'android';

export interface ProvisionOptions {
  phone?: string;
  name?: string;
  /** One-time prekeys to create now (put in `keys` and registered server-side) so inbound
   * messages can start a session before the first login. 0 = empty keys: the client
   * uploads its prekeys on its first login, as a freshly paired device does. */
  preKeys?: number;
}

export interface ProvisionedAccount {
  account: { phone: string; lid: string; device: number; jid: string; lidJid: string; name: string };
  creds: AuthenticationCreds;
  /** Initial contents of the Baileys key store, by type then id. */
  keys: { 'pre-key': Record<string, KeyPair> };
}

export function describeAccount(a: Account): ProvisionedAccount['account'] {
  return { phone: a.phone, lid: a.lid, device: a.device, jid: accountJid(a), lidJid: accountLidJid(a), name: a.name };
}

export function provisionAccount(registry: AccountRegistry, options: ProvisionOptions = {}): ProvisionedAccount {
  const phone = options.phone ?? registry.allocatePhone();
  const account = registry.register(phone, options.name === undefined ? {} : { name: options.name });
  const base = initAuthCreds();
  const identity = addDeviceSignature(
    signDeviceIdentity(account.accountKey, Buffer.from(base.signedIdentityKey.public)),
    base.signedIdentityKey,
  );
  const preKeyCount = Math.max(0, Math.floor(options.preKeys ?? 0));
  const preKeys: Record<string, KeyPair> = {};
  for (let id = 1; id <= preKeyCount; id++) preKeys[String(id)] = Curve.generateKeyPair();

  const creds: AuthenticationCreds = {
    ...base,
    me: { id: accountJid(account), lid: accountLidJid(account), name: account.name },
    account: identity,
    signalIdentities: [createSignalIdentity(accountLidJid(account), account.accountKey.public)],
    platform: PRIMARY_PLATFORM,
    registered: true,
    nextPreKeyId: preKeyCount + 1,
    firstUnuploadedPreKeyId: preKeyCount + 1,
    // >0 tells Baileys history was synced before, so it skips the 20 s wait for a history
    // sync notification on connect (Socket/chats.js) — the simulator sends no history.
    accountSyncCounter: 1,
  };
  account.noiseKey = Buffer.from(base.noiseKey.public);
  account.bundle = {
    registrationId: base.registrationId,
    identityKey: Buffer.from(base.signedIdentityKey.public),
    signedPreKey: {
      keyId: base.signedPreKey.keyId,
      publicKey: Buffer.from(base.signedPreKey.keyPair.public),
      signature: Buffer.from(base.signedPreKey.signature),
    },
    preKeys: Object.entries(preKeys)
      .slice(0, RETAINED_PREKEYS)
      .map(([id, pair]) => ({ keyId: Number(id), publicKey: Buffer.from(pair.public) })),
    preKeyCount,
  };
  return { account: describeAccount(account), creds, keys: { 'pre-key': preKeys } };
}
