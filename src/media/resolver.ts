/**
 * A media send's bytes, taken into `WA_MEDIA` before its `send.queued` is recorded: a
 * named object is checked (there, within the kind's limit), a URL fetched and inline
 * base64 decoded, both stored under `out/<account>/<send id>`. What is recorded is a
 * `MediaRef` (object, size, plaintext SHA-256, mimetype), so a replay reads the same
 * bytes whoever sent them and however. Every failure is a typed error before anything
 * is recorded.
 */
import { createHash } from 'node:crypto';
import type { ObjectInfo, ObjectStore } from '@nats-io/obj';
import {
  DEFAULT_MIMETYPE,
  MAX_INLINE_BYTES,
  type MediaContent,
  MEDIA_MAX_BYTES,
  type MediaRef,
  MIMETYPE_META,
  VOICE_NOTE_MIMETYPE,
  WaError,
} from '../contract/index.js';
import { type FetchLimits, fetchMedia } from './fetch-url.js';

export const DEFAULT_URL_LIMITS: FetchLimits = {
  /** A photo from a CDN arrives in well under a second; 30 s covers a slow origin and a 16 MB video. */
  timeoutMs: 30_000,
  /** The largest kind's limit (document, 100 MiB); each kind's own limit applies first. */
  maxBytes: MEDIA_MAX_BYTES.document,
};

export interface MediaResolver {
  resolve(account: string, sendId: string, content: MediaContent): Promise<MediaRef>;
}

export class ObjectMediaResolver implements MediaResolver {
  constructor(
    private readonly store: ObjectStore,
    private readonly url: FetchLimits = DEFAULT_URL_LIMITS,
    /** A send's media was resolved (with its bytes when the resolver has them): read ahead. */
    private readonly resolved: (ref: MediaRef, bytes?: Uint8Array) => void = () => undefined,
  ) {}

  async resolve(account: string, sendId: string, content: MediaContent): Promise<MediaRef> {
    const max = MEDIA_MAX_BYTES[content.kind];
    const src = content.media;
    if ('object' in src) {
      const info = await this.store.info(src.object);
      if (!info || info.deleted) {
        throw new WaError('bad_request', `media.object "${src.object}" is not in WA_MEDIA (put it there first)`);
      }
      checkSize(content.kind, info.size, max);
      const r = ref(src.object, info, mimetypeOf(content, info.metadata?.[MIMETYPE_META]));
      this.resolved(r);
      return r;
    }
    let bytes: Uint8Array;
    let fetchedType: string | undefined;
    if ('url' in src) {
      const got = await fetchMedia(src.url, {
        timeoutMs: this.url.timeoutMs,
        maxBytes: Math.min(max, this.url.maxBytes),
      });
      bytes = got.bytes;
      fetchedType = got.mimetype;
    } else {
      // base64 length → decoded length without decoding a too large one first.
      const approx = Math.floor((src.base64.length * 3) / 4);
      if (approx > MAX_INLINE_BYTES + 2) throw tooLargeInline(approx);
      bytes = Buffer.from(src.base64, 'base64');
      if (bytes.byteLength > MAX_INLINE_BYTES) throw tooLargeInline(bytes.byteLength);
    }
    checkSize(content.kind, bytes.byteLength, max);
    const mimetype = mimetypeOf(content, fetchedType);
    const name = `out/${account}/${sendId}`;
    const info = await this.store.putBlob({ name, metadata: { [MIMETYPE_META]: mimetype } }, bytes);
    const r = ref(name, info, mimetype);
    this.resolved(r, bytes);
    return r;
  }
}

function ref(object: string, info: ObjectInfo, mimetype: string): MediaRef {
  return { object, size: info.size, sha256: digestHex(info.digest), mimetype };
}

/** nats.js object digests are `SHA-256=<base64url>`. */
export function digestHex(digest: string): string {
  return Buffer.from(digest.replace(/^SHA-256=/, ''), 'base64url').toString('hex');
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function mimetypeOf(content: MediaContent, found: string | undefined): string {
  if (content.mimetype !== undefined) return content.mimetype;
  if (content.kind === 'audio' && content.voiceNote) return VOICE_NOTE_MIMETYPE;
  // A server's generic answer says nothing; the kind's default says more.
  if (found && !/^(application\/octet-stream|binary\/octet-stream)/.test(found)) return found.split(',')[0]!.trim();
  return DEFAULT_MIMETYPE[content.kind];
}

function checkSize(kind: MediaContent['kind'], size: number, max: number): void {
  if (size > max)
    throw new WaError('too_large', `the ${kind} is ${size} bytes; WhatsApp's limit for a ${kind} is ${max}`);
  if (size === 0) throw new WaError('bad_request', `the ${kind} is empty`);
}

function tooLargeInline(size: number): WaError {
  return new WaError(
    'too_large',
    `media.base64 is ${size} bytes decoded; inline media is limited to ${MAX_INLINE_BYTES} (put larger files into WA_MEDIA)`,
  );
}

/** The bytes of a recorded `MediaRef`, checked against the SHA-256 the send recorded. */
export async function readMedia(store: ObjectStore, media: MediaRef): Promise<Uint8Array> {
  const bytes = await store.getBlob(media.object);
  if (!bytes) throw new WaError('bad_request', `media.object "${media.object}" is no longer in WA_MEDIA`);
  if (sha256Hex(bytes) !== media.sha256) {
    throw new WaError('conflict', `media.object "${media.object}" changed after the send was accepted`);
  }
  return bytes;
}
