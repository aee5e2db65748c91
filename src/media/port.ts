/**
 * The runtime's view of `WA_MEDIA` (runtime/port.ts `MediaPort`) on the Object Store:
 * reading a recorded send's bytes, storing received media.
 */
import type { ObjectStore } from '@nats-io/obj';
import { MIMETYPE_META, type MediaRef } from '../contract/index.js';
import type { MediaPort } from '../runtime/port.js';
import { digestHex, readMedia } from './resolver.js';

export class ObjectMediaPort implements MediaPort {
  constructor(private readonly bucket: ObjectStore) {}

  read(media: MediaRef): Promise<Uint8Array> {
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
