// Typed facade over the parts of Baileys and libsignal the simulator uses. Baileys ships
// types; libsignal's are partial, so the few calls we need are typed here once instead of
// sprinkling `any` through the protocol code.
import libsignalDefault from 'libsignal';
import type { BinaryNode } from '@whiskeysockets/baileys';

export {
  Curve,
  proto,
  encodeBinaryNode,
  decodeBinaryNode,
  hkdf,
  sha256,
  aesEncryptGCM,
  aesDecryptGCM,
  aesEncryptCTR,
  aesDecryptCTR,
  hmacSign,
  jidDecode,
  jidEncode,
  encodeBigEndian,
  createSignalIdentity,
  initAuthCreds,
  signedKeyPair,
  unpadRandomMax16,
  encodeWAMessage,
  derivePairingCodeKey,
  BufferJSON,
  NOISE_MODE,
  NOISE_WA_HEADER,
  KEY_BUNDLE_TYPE,
  WA_ADV_ACCOUNT_SIG_PREFIX,
  WA_ADV_DEVICE_SIG_PREFIX,
  getBinaryNodeChild,
  getBinaryNodeChildren,
  getBinaryNodeChildBuffer,
  getAllBinaryNodeChildren,
  hkdfInfoKey,
  getContentType,
  normalizeMessageContent,
} from '@whiskeysockets/baileys';
export type { BinaryNode, AuthenticationCreds, KeyPair, SignalDataTypeMap } from '@whiskeysockets/baileys';

/** A Curve25519 public key on the wire: 32 bytes, without libsignal's 0x05 prefix. */
export const PUBLIC_KEY_BYTES = 32;

/** Curve25519 key pair in libsignal's shape: 33-byte public key (0x05 prefix). */
export interface SignalKeyPair {
  pubKey: Buffer;
  privKey: Buffer;
}

/** What libsignal calls on its storage; the simulator keeps everything in memory. */
export interface SignalStorage {
  loadSession(id: string): Promise<SessionRecord | undefined>;
  storeSession(id: string, record: SessionRecord): Promise<void>;
  isTrustedIdentity(id: string, key: Uint8Array): boolean;
  loadPreKey(id: number | string): Promise<SignalKeyPair | undefined>;
  removePreKey(id: number): void;
  loadSignedPreKey(id?: number): SignalKeyPair | undefined;
  getOurRegistrationId(): number;
  getOurIdentity(): SignalKeyPair;
}

export interface SessionRecord {
  haveOpenSession(): boolean;
}

export interface ProtocolAddress {
  toString(): string;
}

export interface PreKeyBundle {
  registrationId: number;
  identityKey: Buffer;
  signedPreKey: { keyId: number; publicKey: Buffer; signature: Buffer };
  preKey?: { keyId: number; publicKey: Buffer };
}

interface LibSignal {
  ProtocolAddress: new (name: string, deviceId: number) => ProtocolAddress;
  SessionRecord: new () => SessionRecord;
  SessionCipher: new (
    storage: SignalStorage,
    addr: ProtocolAddress,
  ) => {
    decryptPreKeyWhisperMessage(data: Buffer): Promise<Buffer>;
    decryptWhisperMessage(data: Buffer): Promise<Buffer>;
    encrypt(data: Buffer): Promise<{ type: number; body: string }>;
  };
  SessionBuilder: new (
    storage: SignalStorage,
    addr: ProtocolAddress,
  ) => { initOutgoing(bundle: PreKeyBundle): Promise<void> };
  curve: {
    generateKeyPair(): SignalKeyPair;
    calculateSignature(privKey: Buffer, message: Buffer): Buffer;
  };
  keyhelper: { generateRegistrationId(): number };
}

export const signal = libsignalDefault as unknown as LibSignal;

/** Node helper: children of a node as an array (content may be bytes or a string). */
export function childrenOf(node: BinaryNode | undefined): BinaryNode[] {
  return node && Array.isArray(node.content) ? node.content : [];
}

/** Node helper: content as bytes, or undefined when the node carries none. */
export function bytesOf(node: BinaryNode | undefined): Buffer | undefined {
  if (!node) return undefined;
  if (node.content instanceof Uint8Array) return Buffer.from(node.content);
  if (typeof node.content === 'string') return Buffer.from(node.content, 'utf8');
  return undefined;
}
