// The ledger's media check: fetch the blob a media message points at from the simulator's
// own store and decrypt it with the message's mediaKey, so the ledger records the sha256
// of the plaintext the recipient would really get (not the sha256 the sender declared).
import type { MediaRef } from '../ledger/content.js';
import type { MediaCheck } from '../ledger/ledger.js';
import { decryptMedia, sha256 } from './crypto.js';
import type { MediaStore } from './store.js';

export function checkMedia(store: MediaStore, ref: MediaRef): MediaCheck {
  const where = ref.directPath ?? ref.url;
  if (!where) return { mediaError: 'message has no directPath or url' };
  const blob = store.get(where);
  if (!blob) return { mediaError: 'blob not found on the media host' };
  try {
    const plain = decryptMedia(blob.bytes, ref.mediaKey, ref.mediaType);
    return { plainSha256: sha256(plain).toString('hex'), plainSize: plain.length };
  } catch (err) {
    return { mediaError: err instanceof Error ? err.message : String(err) };
  }
}
