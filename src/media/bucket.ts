/**
 * The `WA_MEDIA` Object Store bucket: media a client sends (put by the client, or by
 * the gateway from a URL or inline base64) and media received (downloaded and
 * decrypted). Created at start like `WA_EVENTS`; its limits are the operator's.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { Objm, StorageType, type ObjectStore } from '@nats-io/obj';
import { nanos } from '@nats-io/transport-node';
import type { Logger } from 'pino';

import { MEDIA_BUCKET } from '../contract/index.js';

export { MEDIA_BUCKET };
/** The stream behind an Object Store bucket (nats.js `osPrefix`). */
const MEDIA_STREAM = `OBJ_${MEDIA_BUCKET}`;

export type MediaBucketSettings = {
  /**
   * Objects older than this are removed. A send names its object only until its
   * `send.queued` is recorded and uploaded; inbound media stays for clients to fetch.
   * 7 days: long enough for a consumer that was down over a weekend.
   */
  maxAgeMs: number;
  /** Whole bucket; a put beyond it fails. 5 GiB: a few hundred photos and videos a day. */
  maxBytes: number;
  replicas: number;
};

export const DEFAULT_MEDIA_SETTINGS: MediaBucketSettings = {
  maxAgeMs: 7 * 24 * 60 * 60 * 1000,
  maxBytes: 5 * 1024 ** 3,
  replicas: 1,
};

/** Creates `WA_MEDIA` or brings an existing one to the configured limits; returns it open. */
export async function ensureMediaBucket(
  js: JetStreamClient,
  jsm: JetStreamManager,
  settings: MediaBucketSettings,
  logger: Logger,
): Promise<ObjectStore> {
  const store = await new Objm(js).create(MEDIA_BUCKET, {
    storage: StorageType.File,
    ttl: nanos(settings.maxAgeMs),
    max_bytes: settings.maxBytes,
    replicas: settings.replicas,
    description: 'wa-connd media: sent and received attachments',
  });
  // create() opens an existing bucket as it is: apply the limits like ensureStream does.
  const info = await jsm.streams.info(MEDIA_STREAM);
  const { max_age, max_bytes, num_replicas } = info.config;
  const want = { max_age: nanos(settings.maxAgeMs), max_bytes: settings.maxBytes, num_replicas: settings.replicas };
  if (max_age !== want.max_age || max_bytes !== want.max_bytes || num_replicas !== want.num_replicas) {
    await jsm.streams.update(MEDIA_STREAM, { ...info.config, ...want });
  }
  logger.info({ bucket: MEDIA_BUCKET, settings }, 'media bucket ready');
  return store;
}
