/**
 * The `FactSink` of the runtime: stamps each fact into a contract event and publishes
 * it to `WA_EVENTS`, per account strictly in order, one publish in flight per
 * account, each retried under the same msg id until acked (docs/architecture.md,
 * "Event flow"). Never throws at the caller and never blocks it: facts wait in the
 * offline buffer while NATS is away or an account is being taken over.
 *
 * - `seq` is stamped when a fact is first handed to NATS, from the account's last seq
 *   in the event's stream (records, liveness: one counter each), so each sequence is
 *   gapless even when the buffer evicts;
 * - every fact is applied to the projection's status as it is accepted (stamped with
 *   its `at`), so the status is live while NATS is away; every acked event is applied
 *   to the stream's part of the projection, then handed to the `onStored` listeners,
 *   before anyone waiting on it (the command service) hears of it;
 * - an account is written only after `adopt` fenced it and read its history (takeover.ts).
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { makeEvent, retentionClass, WaError, waEventSchema, type WaEvent } from '../contract/index.js';
import type { Fact, FactSink } from '../runtime/port.js';
import { EventCounters } from './counters.js';
import { DropReport, dropped } from './drop-report.js';
import { isFenced, RejectedError } from './fenced-writer.js';
import { type Buffered, OfflineBuffer } from './offline-buffer.js';
import type { Projection } from './projection.js';
import { type AccountWriter, Takeovers } from './takeover.js';
import { Waiters, backoffDelay, sleep } from './waiting.js';

export const PUBLISHER_DEFAULTS = {
  /** Facts held while NATS is away before observability facts are evicted (~ an hour of a busy account's keepalives). */
  maxBuffered: 10_000,
  /** Room above the bound for send outcomes and inbound messages (see offline-buffer.ts). */
  reserve: 10_000,
  /** One publish attempt; a request lost across a server restart only ends by timing out. */
  publishTimeoutMs: 2_000,
};

/** `close()` publishes what it can for this long before dropping the rest: a restart should not lose a second of facts. */
export const CLOSE_FLUSH_MS = 2_000;
/** Default wait of `flushed()`: longer than a few retried publishes. */ export const FLUSH_WAIT_MS = 5_000;

export type PublisherOptions = {
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** Fencing epoch of this process: `[A-Za-z0-9_-]{1,64}`, new for every start. */
  writerId: string;
  logger: Logger;
  projection: Projection;
  counters?: EventCounters;
  maxBuffered?: number;
  reserve?: number;
  publishTimeoutMs?: number;
  now?: () => Date;
  /** Another writer took the account over. Called once per account. */
  onFenced?: (account: string) => void;
};

type Waiter = { resolve: (e: WaEvent) => void; reject: (err: WaError) => void };
type Entry = Buffered & { event: WaEvent; waiter?: Waiter };

export type PublishTicket = { acked: Promise<WaEvent>; withdraw: () => boolean };

export class EventPublisher {
  readonly counters: EventCounters;
  readonly sink: FactSink = (fact) => this.accept(fact);
  readonly #o: Required<Omit<PublisherOptions, 'onFenced' | 'counters'>> & Pick<PublisherOptions, 'onFenced'>;
  readonly #buffer: OfflineBuffer<Entry>;
  readonly #takeovers: Takeovers;
  readonly #drops: DropReport;
  readonly #idle = new Waiters();
  readonly #abort = new AbortController();
  readonly #stored = new Set<(event: WaEvent) => void>();
  #closed = false;

  constructor(options: PublisherOptions) {
    this.#o = { ...PUBLISHER_DEFAULTS, now: () => new Date(), ...options };
    this.counters = options.counters ?? new EventCounters();
    this.#buffer = new OfflineBuffer<Entry>(this.#o.maxBuffered, this.#o.reserve);
    this.counters.bindBuffered(() => this.#buffer.size);
    this.#drops = new DropReport(this.#o.logger, this.counters);
    this.#takeovers = new Takeovers({
      ...this.#o,
      counters: this.counters,
      signal: this.#abort.signal,
      closed: () => this.#closed,
      buffered: (account) => this.#buffer.all().flatMap((e) => (e.account === account ? [e.event] : [])),
      ready: (account) => this.pump(account),
    });
  }

  /**
   * Records a fact for a caller that needs to know when it is stored (the command
   * path): `acked` resolves with the event once JetStream acked it and the projection
   * applied it, or rejects with a `WaError` if it is dropped. `withdraw()` takes it
   * back if it was not handed to NATS yet (true), so "nothing was recorded" can be
   * promised to a client; once handed over it may be stored and stays (false).
   */
  record(fact: Fact): PublishTicket {
    let waiter!: Waiter;
    const acked = new Promise<WaEvent>((resolve, reject) => {
      waiter = { resolve, reject };
    });
    // The caller may stop listening (a reply timed out); a later drop must not crash the process.
    acked.catch(() => undefined);
    const entry = this.accept(fact, waiter);
    return {
      acked,
      withdraw: () => {
        if (!entry || entry.attempted || entry.gone) return false;
        this.#buffer.remove(entry);
        this.#idle.check();
        waiter.reject(new WaError('unavailable', `${fact.type} was withdrawn before it reached the event stream`));
        return true;
      },
    };
  }

  /**
   * Every event JetStream acked, in per-account order, once (a duplicate ack of a retry
   * is the same event). What this process stored, so nothing a slow subscriber would
   * drop; its own writes only, not other writers' on a shared stream.
   */
  onStored(listener: (event: WaEvent) => void): () => void {
    this.#stored.add(listener);
    return () => this.#stored.delete(listener);
  }

  /**
   * Takes accounts over: fence markers on every subject, then one read of the whole
   * stream into the projection, then publishing starts. Retries until NATS answers.
   */
  adopt(accounts: readonly string[]): Promise<void> {
    return this.#takeovers.adopt(accounts);
  }

  /** Handed over (leases): facts for it are no longer published; `adopt` takes it again. */
  release(account: string): void {
    this.#takeovers.release(account);
  }

  /** Failed takeover attempts of an account still being adopted (0 when adopted or unknown). */
  takeoverFailures(account: string): number {
    return this.#takeovers.failures(account);
  }

  isReady(account: string): boolean {
    return this.#takeovers.get(account)?.phase === 'ready';
  }

  /** Resolves true once the account has nothing buffered, false after `timeoutMs`. */
  flushed(account?: string, timeoutMs = FLUSH_WAIT_MS): Promise<boolean> {
    const isIdle = () => (account === undefined ? this.#buffer.size === 0 : this.#buffer.head(account) === undefined);
    return this.#idle.until(isIdle, timeoutMs);
  }

  /** Publishes what it can within `flushTimeoutMs`, then drops (and reports) the rest. */
  async close(flushTimeoutMs = CLOSE_FLUSH_MS): Promise<void> {
    if (this.#closed) return;
    await this.flushed(undefined, flushTimeoutMs);
    this.#closed = true;
    this.#abort.abort();
    for (const e of this.#buffer.all())
      this.discard(e, 'closed', new WaError('unavailable', 'the gateway is shutting down'));
  }

  private accept(fact: Fact, waiter?: Waiter): Entry | undefined {
    const reject = (code: 'unavailable' | 'internal', message: string) => waiter?.reject(new WaError(code, message));
    const { account, type, ...body } = fact;
    const parsed = waEventSchema.safeParse(makeEvent(type, { account, seq: 1, at: this.#o.now() }, body as never));
    if (!parsed.success) {
      this.#drops.dropped('invalid', dropped(fact), {
        issues: parsed.error.issues.slice(0, 3).map((i) => i.path.join('.')),
      });
      reject('internal', `${type} did not validate as an event`);
      return undefined;
    }
    // The status follows the runtime even when the fact never reaches the stream (NATS away, fenced, closing).
    this.#o.projection.live(parsed.data);
    if (this.#closed) {
      this.#drops.dropped('closed', dropped(fact));
      reject('unavailable', 'the gateway is shutting down');
      return undefined;
    }
    const st = this.#takeovers.get(account);
    if (st?.phase === 'fenced') {
      this.#drops.dropped('fenced', dropped(fact));
      reject('unavailable', `account ${account} is written by another gateway process`);
      return undefined;
    }
    const entry: Entry = { account, type, attempted: false, gone: false, event: parsed.data };
    if (waiter) entry.waiter = waiter;
    const offer = this.#buffer.offer(entry);
    if (!offer.accepted) {
      this.#drops.dropped('buffer_full', dropped(fact), { buffered: this.#buffer.size });
      reject('unavailable', 'the event buffer is full (NATS unreachable?); retry later with the same id');
      return undefined;
    }
    if (offer.evicted)
      this.discard(offer.evicted, 'buffer_full', new WaError('unavailable', 'evicted from a full event buffer'));
    if (!st) void this.adopt([account]);
    else this.pump(account);
    return entry;
  }

  /** The account's one publish loop: head of its queue, until acked, then the next. */
  private pump(account: string): void {
    const st = this.#takeovers.get(account);
    if (!st || st.pumping || st.phase !== 'ready' || this.#closed) return;
    st.pumping = true;
    void this.run(account, st).finally(() => {
      st.pumping = false;
      this.#idle.check();
      // A fact may have arrived between the loop's last look and now.
      if (st.phase === 'ready' && this.#buffer.head(account)) this.pump(account);
    });
  }

  private async run(account: string, st: AccountWriter): Promise<void> {
    let failures = 0;
    for (
      let e = this.#buffer.head(account);
      e && !this.#closed && st.phase === 'ready';
      e = this.#buffer.head(account)
    ) {
      if (!e.attempted) {
        e.attempted = true;
        e.event = { ...e.event, seq: st.nextSeq[retentionClass(e.type)]++ };
      }
      try {
        const res = await st.writer.write(e.event);
        if (res.duplicate) this.counters.duplicates++;
      } catch (err) {
        if (isFenced(err)) return this.fenced(account, st, err);
        if (err instanceof RejectedError) {
          // Never stored, so its seq is free again: the next fact takes it, no gap.
          st.nextSeq[retentionClass(e.type)] = e.event.seq;
          this.discard(e, 'rejected', new WaError('too_large', 'the event stream refused this event'), {
            err: err.cause,
          });
          continue;
        }
        this.counters.publishFailures++;
        if (failures++ === 0)
          st.logger.warn(
            { err, type: e.type, seq: e.event.seq },
            'event publish failed; retrying with the same msg id',
          );
        await sleep(backoffDelay(failures), this.#abort.signal);
        continue;
      }
      if (failures > 0) st.logger.info({ failures, seq: e.event.seq }, 'event publishing resumed');
      failures = 0;
      this.#buffer.remove(e);
      this.counters.published++;
      this.#o.projection.stored(e.event);
      this.announce(e.event, st.logger);
      e.waiter?.resolve(e.event);
    }
  }

  private announce(event: WaEvent, logger: Logger): void {
    for (const l of this.#stored) {
      try {
        l(event);
      } catch (err) {
        logger.error({ err, type: event.type }, 'onStored listener failed');
      }
    }
  }

  private fenced(account: string, st: AccountWriter, err: unknown): void {
    if (st.phase === 'fenced') return;
    st.phase = 'fenced';
    this.counters.fencedAccounts++;
    st.logger.error({ err }, 'another writer took this account over: this process stops writing it');
    for (const e of this.#buffer.take(account)) {
      this.discard(
        e,
        'fenced',
        new WaError('unavailable', `account ${account} is written by another gateway process`),
        undefined,
        false,
      );
    }
    this.#idle.check();
    this.#o.onFenced?.(account);
  }

  private discard(
    e: Entry,
    reason: 'buffer_full' | 'fenced' | 'rejected' | 'closed',
    err: WaError,
    detail?: Record<string, unknown>,
    remove = true,
  ): void {
    if (remove) this.#buffer.remove(e);
    this.#idle.check();
    this.#drops.dropped(reason, dropped(e.event), detail);
    e.waiter?.reject(err);
  }
}
