/**
 * What the event layer counts. Plain numbers with getters, so the layer needs no
 * metrics library; `registerEventMetrics` exposes them on a prom-client `Registry`
 * read at scrape time (nothing is double-counted, nothing is pushed).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { EventType } from '../contract/index.js';

/** Why a fact never reached the stream. */
export type DropReason =
  /** The offline buffer was full: an older observability fact made room, or the fact itself was refused. */
  | 'buffer_full'
  /** It did not validate as an event (a runtime bug, logged as an error). */
  | 'invalid'
  /** Another writer took the account over; this process no longer writes it. */
  | 'fenced'
  /** The server refused it for good (e.g. larger than the server's max payload). */
  | 'rejected'
  /** The layer was closed with it still buffered. */
  | 'closed';

export class EventCounters {
  /** Events stored in `WA_EVENTS` (acked, including acks of a retried publish that was a duplicate). */
  published = 0;
  /** Acks that came back `duplicate: true`: a retry of an event that was already stored. */
  duplicates = 0;
  /** Publish attempts that failed and were retried (timeouts, NATS away). */
  publishFailures = 0;
  /** Fence markers written on takeover. */
  fenceMarkers = 0;
  /** Accounts this process lost to another writer. */
  fencedAccounts = 0;
  /** Takeover attempts (fence + read of the account's history) that failed and were retried, per account. */
  takeoverFailures = 0;
  /** Purges of a liveness subject down to its last `livenessPerSubject` (liveness-trim.ts). */
  livenessTrims = 0;
  /** Liveness events those purges removed. */
  livenessTrimmed = 0;
  /** Time those purges took, summed (ms): a purge scans the stream under its lock. */
  livenessTrimMs = 0;
  readonly #dropped = new Map<string, number>();
  /** Read by the buffer owner: facts accepted and not yet acked. */
  #buffered: () => number = () => 0;

  get buffered(): number {
    return this.#buffered();
  }

  get dropped(): number {
    let n = 0;
    for (const v of this.#dropped.values()) n += v;
    return n;
  }

  /** Dropped facts by `reason` and event `type`. */
  droppedBy(): { reason: DropReason; type: EventType; count: number }[] {
    return [...this.#dropped.entries()].map(([key, count]) => {
      const [reason, type] = key.split('|') as [DropReason, EventType];
      return { reason, type, count };
    });
  }

  drop(reason: DropReason, type: EventType, n = 1): void {
    const key = `${reason}|${type}`;
    this.#dropped.set(key, (this.#dropped.get(key) ?? 0) + n);
  }

  bindBuffered(read: () => number): void {
    this.#buffered = read;
  }

  snapshot(): {
    published: number;
    duplicates: number;
    buffered: number;
    publishFailures: number;
    dropped: number;
    fencedAccounts: number;
  } {
    return {
      published: this.published,
      duplicates: this.duplicates,
      buffered: this.buffered,
      publishFailures: this.publishFailures,
      dropped: this.dropped,
      fencedAccounts: this.fencedAccounts,
    };
  }
}

/** Registers `wa_events_*` metrics on `registry`; values are read from `counters` at scrape time. */
export function registerEventMetrics(registry: Registry, counters: EventCounters): void {
  const total = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  total('wa_events_published_total', 'Events stored in WA_EVENTS (acked).', () => counters.published);
  total(
    'wa_events_duplicate_acks_total',
    'Publish retries JetStream recognised as already stored.',
    () => counters.duplicates,
  );
  total(
    'wa_events_publish_failures_total',
    'Event publish attempts that failed and were retried.',
    () => counters.publishFailures,
  );
  total('wa_events_fenced_accounts_total', 'Accounts taken over by another writer.', () => counters.fencedAccounts);
  total(
    'wa_events_takeover_failures_total',
    "Takeover attempts (fence and read of an account's history) that failed and were retried.",
    () => counters.takeoverFailures,
  );
  total(
    'wa_events_liveness_trimmed_total',
    'Liveness events (transition, keepalive, qr) trimmed from WA_EVENTS beyond the last livenessPerSubject per account and type.',
    () => counters.livenessTrimmed,
  );
  new Gauge({
    name: 'wa_events_buffered',
    help: 'Facts accepted and not yet acked by JetStream (the offline buffer).',
    registers: [registry],
    collect() {
      this.set(counters.buffered);
    },
  });
  new Counter({
    name: 'wa_events_dropped_total',
    help: 'Facts that never reached the stream, by reason and event type.',
    labelNames: ['reason', 'type'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const d of counters.droppedBy()) this.inc({ reason: d.reason, type: d.type }, d.count);
    },
  });
}
