// The key exchange of pairing by code, as the primary phone does it: unwrap the companion's
// ephemeral key with the typed code, wrap our own under the same code, and derive the
// advSecret from companion_finish's key bundle. Apart from pairing.ts, which keeps the
// flow (which stanza when, which connection waits for which phone); this is only the crypto.
import { randomBytes } from 'node:crypto';
import {
  aesDecryptCTR,
  aesDecryptGCM,
  aesEncryptCTR,
  Curve,
  derivePairingCodeKey,
  hkdf,
  PUBLIC_KEY_BYTES,
  type KeyPair,
} from '../wa.js';

/** Layout of the wrapped ephemeral key: salt(32) | iv(16) | AES-CTR(pub, 32). */
const WRAP_SALT = 32;
const WRAP_IV = 16;
export const WRAPPED_KEY_BYTES = WRAP_SALT + WRAP_IV + PUBLIC_KEY_BYTES;
/** Layout of companion_finish's key bundle: salt(32) | iv(12) | AES-GCM(...). */
const BUNDLE_SALT = 32;
const BUNDLE_IV = 12;
const BUNDLE_RANDOM = 32;

/** The companion's ephemeral public key from companion_hello, unwrapped with the code the user typed. */
export async function unwrapCompanionEphemeral(code: string, wrapped: Buffer): Promise<Buffer> {
  const key = await derivePairingCodeKey(code, wrapped.subarray(0, WRAP_SALT));
  return aesDecryptCTR(
    wrapped.subarray(WRAP_SALT + WRAP_IV, WRAP_SALT + WRAP_IV + PUBLIC_KEY_BYTES),
    key,
    wrapped.subarray(WRAP_SALT, WRAP_SALT + WRAP_IV),
  );
}

/** The primary's ephemeral public key wrapped under the code (fresh salt and iv), for the client. */
export async function wrapPrimaryEphemeral(code: string, primaryPublic: Uint8Array): Promise<Buffer> {
  const salt = randomBytes(WRAP_SALT);
  const iv = randomBytes(WRAP_IV);
  return Buffer.concat([salt, iv, aesEncryptCTR(primaryPublic, await derivePairingCodeKey(code, salt), iv)]);
}

/**
 * The advSecret both sides derive from companion_finish. Throws when the bundle does not
 * decrypt: a wrong code unwrapped the companion's ephemeral key to garbage.
 */
export function linkCodeAdvSecret(
  primaryEphemeral: KeyPair,
  companionEphemeral: Buffer,
  bundle: Buffer,
  accountKey: KeyPair,
  companionIdentity: Buffer,
): Buffer {
  const companionShared = Curve.sharedKey(primaryEphemeral.private, companionEphemeral);
  const salt = bundle.subarray(0, BUNDLE_SALT);
  const key = Buffer.from(hkdf(companionShared, 32, { salt, info: 'link_code_pairing_key_bundle_encryption_key' }));
  const plain = aesDecryptGCM(
    bundle.subarray(BUNDLE_SALT + BUNDLE_IV),
    key,
    bundle.subarray(BUNDLE_SALT, BUNDLE_SALT + BUNDLE_IV),
    Buffer.alloc(0),
  );
  const random = plain.subarray(plain.length - BUNDLE_RANDOM);
  const identityShared = Curve.sharedKey(accountKey.private, companionIdentity);
  return Buffer.from(hkdf(Buffer.concat([companionShared, identityShared, random]), 32, { info: 'adv_secret' }));
}
