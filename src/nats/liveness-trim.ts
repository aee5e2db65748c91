/**
 * Liveness retention (docs/architecture.md, "Retention classes"): every keepalive cycle
 * publishes three transitions and a keepalive, ~24 events a minute per account, and
 * nats-server 2.9 has no per-message TTL and no per-subject limit that would spare
 * records. So the writer trims: once a liveness subject of an account
 * (`wa.evt.<account>.transition|keepalive|qr`) has had `every` more events stored, it
 * purges that subject down to its last `keep` (`$JS.API.STREAM.PURGE.WA_EVENTS` with
 * `filter` and `keep`). Records are on other subjects and never touched.
 *
 * `keep` ≥ 1 leaves each subject's last message, which is both the account's last state
 * (status rebuild) and what the fencing expectations check. A failed purge is not retried
 * on its own: the next event on the subject asks again. One purge at a time: each scans
 * the stream under its lock, and a pile of them would stall every publish meanwhile.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { EVENTS_STREAM, evtSubject, retentionClass, type WaEvent } from '../contract/index.js';
import type { EventCounters } from './counters.js';

/**
 * Trim a subject after this share of `keep` new events: a subject holds at most
 * keep × 1.5 events. A purge scans the stream and holds its lock (docs/benchmarks.md:
 * trimming every keep/10 events cut the publish rate to 0.23×), so not more often:
 * 500 keepalive-only accounts with keep 1,000 ask for ~0.5 purges a second.
 */
const TRIM_SLACK = 0.5;

export type LivenessTrimOptions = {
  jsm: JetStreamManager;
  /** Events kept per liveness subject (`StreamSettings.livenessPerSubject`). */
  keep: number;
  counters: EventCounters;
  logger: Logger;
};

export class LivenessTrim {
  readonly #o: LivenessTrimOptions;
  readonly #every: number;
  /** Subject → events stored since its last purge was asked for. */
  readonly #since = new Map<string, number>();
  /** Subjects due for a purge, in the order they became due (each once). */
  readonly #due = new Set<string>();
  #running: Promise<void> | null = null;

  constructor(o: LivenessTrimOptions) {
    this.#o = o;
    this.#every = Math.max(1, Math.floor(o.keep * TRIM_SLACK));
  }

  /** An event JetStream stored; trims its subject when due. Never throws, never waits. */
  stored(event: WaEvent): void {
    if (retentionClass(event.type) !== 'liveness') return;
    const subject = evtSubject(event.account, event.type);
    const n = (this.#since.get(subject) ?? 0) + 1;
    if (n < this.#every) return void this.#since.set(subject, n);
    this.#since.set(subject, 0);
    this.#due.add(subject);
    this.#running ??= this.drain().finally(() => {
      this.#running = null;
    });
  }

  private async drain(): Promise<void> {
    for (const subject of this.#due) {
      this.#due.delete(subject);
      await this.trim(subject);
    }
  }

  /** Purges `subject` down to its last `keep` messages. */
  async trim(subject: string): Promise<void> {
    const t0 = performance.now();
    try {
      const r = await this.#o.jsm.streams.purge(EVENTS_STREAM, { filter: subject, keep: this.#o.keep });
      this.#o.counters.livenessTrimMs += performance.now() - t0;
      this.#o.counters.livenessTrims++;
      this.#o.counters.livenessTrimmed += r.purged;
    } catch (err) {
      // The next event on the subject asks again; meanwhile it holds a few more than `keep`.
      this.#o.logger.warn({ err, subject }, 'could not trim a liveness subject; retried with its next event');
    }
  }

  /** Resolves once no purge is due or running. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Drops the purges still due (the next process asks again) and waits for the running one. */
  async close(): Promise<void> {
    this.#due.clear();
    await this.idle();
  }
}
