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
