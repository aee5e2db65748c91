// The simulator's own certificate root. The real client verifies the Noise certificate chain
// against WA_CERT_DETAILS.PUBLIC_KEY (intermediate signed by the root, issuerSerial 0; leaf
// signed by the intermediate). We cannot sign with WhatsApp's root, so we make our own and
// publish its public key: a client trusts it only when told to (see docs/simulator.md).
import { createHash, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { Curve, proto, type KeyPair } from '../wa.js';

/** DER prefixes for raw X25519 keys in PKCS#8 / SPKI, so node:crypto derives the public key. */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI_PREFIX_LENGTH = 12;

/** WA_CERT_DETAILS.SERIAL: the client requires the intermediate's issuerSerial to equal it. */
const ROOT_SERIAL = 0;
const INTERMEDIATE_SERIAL = 1;
const LEAF_SERIAL = 2;

export interface ServerIdentity {
  root: KeyPair;
  /** The Noise static key of the server (the leaf certificate's key). */
  static: KeyPair;
  /** Encoded proto.CertChain sent, encrypted, in the server hello. */
  certChain: Buffer;
}

/** X25519 key pair from 32 bytes of seed material (clamped as RFC 7748 says). */
export function keyPairFromSeed(material: Buffer): KeyPair {
  const priv = Buffer.from(material.subarray(0, 32));
  priv[0]! &= 248;
  priv[31]! &= 127;
  priv[31]! |= 64;
  const key = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, priv]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return { private: priv, public: Buffer.from(spki.subarray(X25519_SPKI_PREFIX_LENGTH)) };
}

/** Deterministic per-purpose key material from a seed, so two processes agree on keys. */
export function seedMaterial(seed: string, purpose: string): Buffer {
  return createHash('sha256').update(`wa-connd-simulator:${seed}:${purpose}`).digest();
}

function keyPair(seed: string | undefined, purpose: string): KeyPair {
  return seed === undefined ? keyPairFromSeed(randomBytes(32)) : keyPairFromSeed(seedMaterial(seed, purpose));
}

function certificate(
  details: proto.CertChain.NoiseCertificate.IDetails,
  signer: KeyPair,
): proto.CertChain.INoiseCertificate {
  const encoded = proto.CertChain.NoiseCertificate.Details.encode(details).finish();
  return { details: encoded, signature: Buffer.from(Curve.sign(signer.private, encoded)) };
}

export function makeServerIdentity(seed?: string): ServerIdentity {
  const root = keyPair(seed, 'root');
  const intermediate = keyPair(seed, 'intermediate');
  const staticKey = keyPair(seed, 'static');
  const chain = proto.CertChain.encode({
    intermediate: certificate(
      { serial: INTERMEDIATE_SERIAL, issuerSerial: ROOT_SERIAL, key: intermediate.public },
      root,
    ),
    leaf: certificate({ serial: LEAF_SERIAL, issuerSerial: INTERMEDIATE_SERIAL, key: staticKey.public }, intermediate),
  }).finish();
  return { root, static: staticKey, certChain: Buffer.from(chain) };
}
