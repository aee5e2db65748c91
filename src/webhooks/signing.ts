/**
 * What goes over the wire, by the Standard Webhooks specification
 * (https://www.standardwebhooks.com): a JSON body `{ type, timestamp, data }` and the
 * headers `webhook-id`, `webhook-timestamp`, `webhook-signature` (HMAC-SHA256, signed
 * with the `standardwebhooks` library so receivers can verify with theirs).
 */
import { Webhook } from 'standardwebhooks';
import type { WaEvent } from '../contract/index.js';

/**
 * Stable per event: the account and its gapless per-account `seq` name one event for
 * good (the stream sequence would change if the stream were ever rebuilt). Every
 * redelivery and replay carries it, so a receiver deduplicates on it.
 */
export function webhookId(event: Pick<WaEvent, 'account' | 'seq'>): string {
  return `evt_${event.account}_${event.seq}`;
}

export function webhookBody(event: WaEvent): string {
  return JSON.stringify({ type: event.type, timestamp: event.at, data: event });
}

/**
 * Batch mode: one request carries up to `batch` consecutive events of one account,
 * `{ type: "batch", timestamp, data: [{ id, type, timestamp, data }…] }`. The request's
 * id names its range; a batch resent after a restart may be cut differently, so a
 * receiver deduplicates on each item's `id` (the event's webhook-id).
 */
export function batchId(events: readonly WaEvent[]): string {
  const first = events[0] as WaEvent;
  const last = events[events.length - 1] as WaEvent;
  return `batch_${first.account}_${first.seq}-${last.seq}`;
}

export function batchBody(events: readonly WaEvent[], now: Date): string {
  return JSON.stringify({
    type: 'batch',
    timestamp: now.toISOString(),
    data: events.map((e) => ({ id: webhookId(e), type: e.type, timestamp: e.at, data: e })),
  });
}

export type SignedRequest = { body: string; headers: Record<string, string> };

export class Signer {
  readonly #wh: Webhook;

  constructor(secret: string) {
    this.#wh = new Webhook(secret);
  }

  /** Signed at each attempt: the timestamp is when it was sent, so a receiver's replay window holds. */
  sign(id: string, body: string, now: Date): SignedRequest {
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': this.#wh.sign(id, now, body),
      },
    };
  }
}
