// ADV (device identity) signing: what the primary phone does when it links a companion.
// Verified by Baileys in configureSuccessfulPairing (Utils/validate-connection.js): the
// account signature covers [6,0] + details + companion identity key; the HMAC over the signed
// identity uses the companion's advSecretKey (from the QR, or derived in pairing-code login).
import { randomInt } from 'node:crypto';
import { Curve, hmacSign, proto, WA_ADV_ACCOUNT_SIG_PREFIX, WA_ADV_DEVICE_SIG_PREFIX, type KeyPair } from '../wa.js';

/** key-index of the companion in the account's device list; the first companion is 1. */
export const COMPANION_KEY_INDEX = 1;

export interface SignedDeviceIdentity {
  details: Buffer;
  accountSignatureKey: Buffer;
  accountSignature: Buffer;
  deviceSignature?: Buffer;
}

export function signDeviceIdentity(accountKey: KeyPair, companionIdentity: Buffer): SignedDeviceIdentity {
  const details = Buffer.from(
    proto.ADVDeviceIdentity.encode({
      rawId: randomInt(1, 2 ** 31),
      timestamp: Math.floor(Date.now() / 1000),
      keyIndex: COMPANION_KEY_INDEX,
    }).finish(),
  );
  const accountSignature = Curve.sign(
    accountKey.private,
    Buffer.concat([WA_ADV_ACCOUNT_SIG_PREFIX, details, companionIdentity]),
  );
  return {
    details,
    accountSignatureKey: Buffer.from(accountKey.public),
    accountSignature: Buffer.from(accountSignature),
  };
}

/** The companion's own counter-signature; provisioning does it on the client's behalf. */
export function addDeviceSignature(identity: SignedDeviceIdentity, companionIdentity: KeyPair): SignedDeviceIdentity {
  const message = Buffer.concat([
    WA_ADV_DEVICE_SIG_PREFIX,
    identity.details,
    companionIdentity.public,
    identity.accountSignatureKey,
  ]);
  return { ...identity, deviceSignature: Buffer.from(Curve.sign(companionIdentity.private, message)) };
}

/** The `<device-identity>` payload of `<pair-success>`. */
export function encodeDeviceIdentityHmac(identity: SignedDeviceIdentity, advSecret: Buffer): Buffer {
  const signed = Buffer.from(proto.ADVSignedDeviceIdentity.encode(identity).finish());
  const hmac = hmacSign(signed, advSecret);
  return Buffer.from(proto.ADVSignedDeviceIdentityHMAC.encode({ details: signed, hmac }).finish());
}
