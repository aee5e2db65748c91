/**
 * Delivery of one endpoint's events: one queue per account, delivered strictly in
 * order (an account's next event goes out only after the previous one was answered
 * 2xx or dead-lettered), accounts in parallel up to the endpoint's `concurrency`.
 * An account that has more waiting yields its slot after each event when others are
 * waiting, so one busy account cannot starve the rest.
 */
import type { Logger } from 'pino';
import { retentionClass, type WaEvent } from '../contract/index.js';
import type { FactOf } from '../runtime/port.js';
import { sleep } from '../nats/waiting.js';
import type { Sender } from './http.js';
import { retryDelay, type RetryPolicy } from './retry.js';
import { batchBody, batchId, type Signer, webhookBody, webhookId } from './signing.js';

export type DeliveryItem = {
  /** Sequence in the event's stream (`WA_EVENTS`, or `WA_LIVENESS` for transitions, keepalives, QRs). */
  streamSeq: number;
  event: WaEvent;
  /** The event is done with (delivered or dead-lettered): ack it. */
  done(): void;
};

/** What the metrics count; every call names the endpoint. */
export type DeliveryObserver = {
  delivered(endpoint: string, requestSeconds: number): void;
  /** An attempt failed (answered non-2xx or not at all). */
  failed(endpoint: string, reason: string): void;
  retried(endpoint: string): void;
  deadLettered(endpoint: string): void;
};

export const NO_OBSERVER: DeliveryObserver = { delivered() {}, failed() {}, retried() {}, deadLettered() {} };

export type PipelineOptions = {
  endpoint: string;
  sender: Sender;
  timeoutMs: number;
  concurrency: number;
  /** Events per request at most; 1 = one event per request, the Standard Webhooks shape. */
  batch: number;
  retry: RetryPolicy;
  signer: Signer;
  logger: Logger;
  observer: DeliveryObserver;
  deadLetter: (fact: FactOf<'webhook.dead_lettered'>) => void;
  /** Aborted on close: waits end at once, requests are cancelled, nothing is acked. */
  signal: AbortSignal;
  now?: () => Date;
};

export class Pipeline {
  readonly #o: PipelineOptions;
  readonly #queues = new Map<string, DeliveryItem[]>();
  /** Accounts with a worker now. */
  readonly #running = new Set<string>();
  /** Accounts with queued events waiting for a slot, first come first served. */
  readonly #waiting: string[] = [];
  readonly #idle = new Set<() => void>();
  /** Per account: how many head items a request has in flight (not to be reordered). */
  readonly #inFlight = new Map<string, number>();

  constructor(o: PipelineOptions) {
    this.#o = o;
  }

  push(item: DeliveryItem): void {
    const account = item.event.account;
    let q = this.#queues.get(account);
    if (!q) this.#queues.set(account, (q = []));
    // In the account's seq order, should a redelivery come after a later event: never
    // ahead of the head while a worker has it in flight.
    // seq counts per stream (records, liveness): only events of the same stream compare.
    const floor = this.#inFlight.get(account) ?? 0;
    const cls = retentionClass(item.event.type);
    let at = q.length;
    for (let i = q.length - 1; i >= floor; i--) {
      const other = (q[i] as DeliveryItem).event;
      if (retentionClass(other.type) !== cls) continue;
      if (other.seq <= item.event.seq) break;
      at = i;
    }
    q.splice(at, 0, item);
    if (!this.#running.has(account) && !this.#waiting.includes(account)) this.#schedule(account);
  }

  /** Events queued or in flight. */
  get size(): number {
    let n = 0;
    for (const q of this.#queues.values()) n += q.length;
    return n;
  }

  /** Resolves when no worker runs (after close: once every in-flight attempt has stopped). */
  idle(): Promise<void> {
    if (this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  #schedule(account: string): void {
    if (this.#o.signal.aborted) return;
    if (this.#running.size < this.#o.concurrency) {
      this.#running.add(account);
      void this.#work(account);
    } else this.#waiting.push(account);
  }

  async #work(account: string): Promise<void> {
    try {
      const q = this.#queues.get(account) ?? [];
      while (q.length > 0 && !this.#o.signal.aborted) {
        const items = q.slice(0, this.#o.batch);
        this.#inFlight.set(account, items.length);
        const delivered = await this.#deliver(items);
        this.#inFlight.delete(account);
        if (!delivered) return;
        q.splice(0, items.length);
        for (const item of items) item.done();
        if (this.#waiting.length > 0 && q.length > 0) {
          this.#waiting.push(account);
          return;
        }
      }
      if (q.length === 0) this.#queues.delete(account);
    } catch (err) {
      this.#o.logger.error({ err, account }, 'webhook delivery failed unexpectedly');
    } finally {
      this.#running.delete(account);
      const next = this.#waiting.shift();
      if (next !== undefined) this.#schedule(next);
      if (this.#running.size === 0) {
        for (const resolve of this.#idle) resolve();
        this.#idle.clear();
      }
    }
  }

  /** True when the events are done with; false when closing stopped them (they stay unacked). */
  async #deliver(items: DeliveryItem[]): Promise<boolean> {
    const o = this.#o;
    const first = items[0] as DeliveryItem;
    const now = o.now ?? (() => new Date());
    const single = items.length === 1 && o.batch === 1;
    const id = single ? webhookId(first.event) : batchId(items.map((i) => i.event));
    const body = single
      ? webhookBody(first.event)
      : batchBody(
          items.map((i) => i.event),
          now(),
        );
    const log = o.logger.child({ account: first.event.account, webhookId: id, streamSeq: first.streamSeq });
    for (let attempt = 1; ; attempt++) {
      if (o.signal.aborted) return false;
      const started = performance.now();
      const result = await o.sender.post(o.signer.sign(id, body, now()), o.timeoutMs, o.signal);
      if (o.signal.aborted && result.kind !== 'delivered') return false;
      if (result.kind === 'delivered') {
        for (let i = 0; i < items.length; i++) o.observer.delivered(o.endpoint, (performance.now() - started) / 1000);
        return true;
      }
      o.observer.failed(o.endpoint, result.reason);
      if (result.kind === 'refused' || attempt >= o.retry.attempts) {
        for (const item of items) this.#deadLetter(item, attempt, result.reason, result.status, log);
        return true;
      }
      const wait = retryDelay(o.retry, attempt, result.kind === 'retry' ? result.retryAfterMs : undefined);
      log.debug(
        { attempt, reason: result.reason, status: result.status, waitMs: wait },
        'webhook attempt failed: retrying',
      );
      o.observer.retried(o.endpoint);
      await sleep(wait, o.signal);
    }
  }

  #deadLetter(item: DeliveryItem, attempts: number, reason: string, status: number | undefined, log: Logger): void {
    const { event } = item;
    log.warn({ attempts, reason, status, eventType: event.type }, 'webhook gave up on an event: dead-lettered');
    this.#o.observer.deadLettered(this.#o.endpoint);
    // A dead letter of a dead letter would feed itself when a receiver refuses everything.
    if (event.type === 'webhook.dead_lettered') return;
    this.#o.deadLetter({
      account: event.account,
      type: 'webhook.dead_lettered',
      endpoint: this.#o.endpoint,
      streamSeq: item.streamSeq,
      eventType: event.type,
      eventSeq: event.seq,
      attempts,
      reason,
      ...(status !== undefined ? { status } : {}),
    });
  }
}
