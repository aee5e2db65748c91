/**
 * The runtime's view of `WA_MEDIA` (runtime/port.ts `MediaPort`) on the Object Store:
 * reading a recorded send's bytes, storing received media.
 */
import type { ObjectStore } from '@nats-io/obj';
import { MIMETYPE_META, type MediaRef } from '../contract/index.js';
import type { MediaPort } from '../runtime/port.js';
import { digestHex, readMedia } from './resolver.js';

/**
 * Media sends resolved but not dispatched yet whose bytes are being read ahead: the read
 * of a `WA_MEDIA` object (chunk by chunk over JetStream) overlaps recording `send.queued`
 * instead of following it. Small: a burst of media sends beyond it just reads at dispatch.
 */
const PREFETCH_ENTRIES = 16;
/** Larger objects are read at dispatch only (memory: 16 entries × 16 MiB at most). */
const PREFETCH_MAX_BYTES = 16 * 1024 * 1024;

export class ObjectMediaPort implements MediaPort {
  readonly #ahead = new Map<string, { sha256: string; bytes: Promise<Uint8Array> }>();

  constructor(private readonly bucket: ObjectStore) {}

  /** A send naming `media` was just accepted: start reading it (or keep the bytes the resolver had). */
  prefetch(media: MediaRef, bytes?: Uint8Array): void {
    if (media.size > PREFETCH_MAX_BYTES) return;
    if (this.#ahead.size >= PREFETCH_ENTRIES) this.#ahead.delete(this.#ahead.keys().next().value!);
    const read = bytes ? Promise.resolve(bytes) : readMedia(this.bucket, media);
    read.catch(() => undefined); // read() reports it, if the send is ever dispatched
    this.#ahead.set(media.object, { sha256: media.sha256, bytes: read });
  }

  read(media: MediaRef): Promise<Uint8Array> {
    const ahead = this.#ahead.get(media.object);
    this.#ahead.delete(media.object);
    // Read once: a replay reads the store again (the bytes are not kept in memory for it).
    if (ahead && ahead.sha256 === media.sha256) return ahead.bytes;
    return readMedia(this.bucket, media);
  }

  async store(name: string, bytes: Uint8Array, mimetype: string | undefined) {
    const info = await this.bucket.putBlob(
      { name, ...(mimetype ? { metadata: { [MIMETYPE_META]: mimetype } } : {}) },
      bytes,
    );
    return { size: info.size, sha256: digestHex(info.digest) };
  }
}
