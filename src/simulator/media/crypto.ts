// WhatsApp media encryption, as Baileys does it (Utils/messages-media.js encryptedStream,
// downloadEncryptedContent): HKDF(mediaKey, 112, info "WhatsApp <Type> Keys") → iv (16),
// cipherKey (32), macKey (32); the blob is AES-256-CBC(plaintext) followed by the first 10
// bytes of HMAC-SHA256(macKey, iv ‖ ciphertext). The key schedule is Baileys' own
// exported hkdf and hkdfInfoKey (what its getMediaKeys does, synchronously), so both sides
// derive the same keys by construction.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { hkdf, hkdfInfoKey } from '../wa.js';
import type { MediaType } from '../ledger/content.js';

/** Bytes of the truncated HMAC appended to the ciphertext. */
export const MEDIA_MAC_BYTES = 10;
const MEDIA_KEY_BYTES = 32;

export interface EncryptedMedia {
  mediaKey: Buffer;
  /** ciphertext ‖ mac: what is uploaded and downloaded. */
  blob: Buffer;
  fileSha256: Buffer;
  fileEncSha256: Buffer;
  fileLength: number;
}

/** Bytes HKDF expands the media key to: iv 16, cipherKey 32, macKey 32, refKey 32. */
const EXPANDED_KEY_BYTES = 112;

function keysFor(mediaKey: Buffer, mediaType: MediaType): { iv: Buffer; cipherKey: Buffer; macKey: Buffer } {
  const expanded = Buffer.from(hkdf(mediaKey, EXPANDED_KEY_BYTES, { info: hkdfInfoKey(mediaType) }));
  return { iv: expanded.subarray(0, 16), cipherKey: expanded.subarray(16, 48), macKey: expanded.subarray(48, 80) };
}

export const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();

export function encryptMedia(plain: Buffer, mediaType: MediaType): EncryptedMedia {
  const mediaKey = randomBytes(MEDIA_KEY_BYTES);
  const { iv, cipherKey, macKey } = keysFor(mediaKey, mediaType);
  const aes = createCipheriv('aes-256-cbc', cipherKey, iv);
  const ciphertext = Buffer.concat([aes.update(plain), aes.final()]);
  const mac = createHmac('sha256', macKey).update(iv).update(ciphertext).digest().subarray(0, MEDIA_MAC_BYTES);
  const blob = Buffer.concat([ciphertext, mac]);
  return { mediaKey, blob, fileSha256: sha256(plain), fileEncSha256: sha256(blob), fileLength: plain.length };
}

/** Checks the MAC and decrypts; throws with a short reason when the blob does not match the key. */
export function decryptMedia(blob: Buffer, mediaKey: Buffer, mediaType: MediaType): Buffer {
  if (blob.length < MEDIA_MAC_BYTES + 16) throw new Error('blob too short');
  const { iv, cipherKey, macKey } = keysFor(mediaKey, mediaType);
  const ciphertext = blob.subarray(0, blob.length - MEDIA_MAC_BYTES);
  const mac = blob.subarray(blob.length - MEDIA_MAC_BYTES);
  const expected = createHmac('sha256', macKey).update(iv).update(ciphertext).digest().subarray(0, MEDIA_MAC_BYTES);
  if (!timingSafeEqual(mac, expected)) throw new Error('media MAC mismatch');
  const aes = createDecipheriv('aes-256-cbc', cipherKey, iv);
  return Buffer.concat([aes.update(ciphertext), aes.final()]);
}
