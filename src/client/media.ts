/**
 * Media for the typed client: bytes into and out of the `WA_MEDIA` Object Store bucket
 * the gateway creates at start. A send then names the object (`media: { object }`).
 */
import { jetstream } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { MEDIA_BUCKET, MIMETYPE_META, WaError } from '../contract/index.js';

async function bucket(nc: NatsConnection) {
  try {
    return await new Objm(jetstream(nc)).open(MEDIA_BUCKET);
  } catch (cause) {
    throw new WaError('unavailable', `the ${MEDIA_BUCKET} bucket is not there: is a gateway running on this NATS?`, {
      cause,
    });
  }
}

export async function putMedia(
  nc: NatsConnection,
  name: string,
  bytes: Uint8Array,
  options: { mimetype?: string } = {},
): Promise<{ object: string }> {
  const store = await bucket(nc);
  await store.putBlob(
    { name, ...(options.mimetype ? { metadata: { [MIMETYPE_META]: options.mimetype } } : {}) },
    bytes,
  );
  return { object: name };
}

export async function getMedia(nc: NatsConnection, name: string): Promise<Uint8Array | null> {
  return (await bucket(nc)).getBlob(name);
}
