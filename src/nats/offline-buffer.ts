/**
 * The ordered, bounded buffer between the runtime's facts and JetStream. Every fact
 * waits here until its publish is acked, so while NATS is away the gateway keeps
 * running and nothing is reordered. Pure data structure: no NATS, no timers.
 *
 * Policy when full (docs/architecture.md, "Buffering while NATS is away"):
 * - Facts are either *records* (a promise made to a client or a message a consumer
 *   must get) or *observability* (they explain, and a reconnect storm produces
 *   thousands of them): `EVENT_CLASS` in the contract (src/contract/events.ts).
 * - At `bound`, the oldest observability fact not yet handed to NATS is evicted to
 *   make room, whatever arrives.
 * - With no observability fact left to evict, a new observability fact is refused,
 *   and so is a new `send.queued` (its client gets `unavailable` and may retry; no
 *   promise is broken). Other records still enter, into a `reserve` above the bound:
 *   they are the outcomes of sends already promised and inbound messages.
 * - At `bound + reserve`, everything is refused. Dropping is counted and logged by
 *   the caller, with what was dropped.
 * Seqs are stamped when a fact is first handed to NATS, not when it is buffered, so
 * an eviction never leaves a gap in an account's seq; once handed over, a fact is
 * never evicted (it may already be stored).
 */
import { isRecordType, type EventType } from '../contract/index.js';

export type Buffered = {
  readonly account: string;
  readonly type: EventType;
  /** Set once the fact was handed to NATS: from then on it is never evicted. */
  attempted: boolean;
  /** Evicted, withdrawn or published: skipped by the queues, which clean up lazily. */
  gone: boolean;
};

export type Offer<E extends Buffered> = { accepted: true; evicted?: E } | { accepted: false };

/** A FIFO array with a moving head; compacts when the dead prefix dominates. */
class Fifo<E extends Buffered> {
  items: E[] = [];
  head = 0;

  push(e: E): void {
    this.items.push(e);
  }

  /** First live entry; drops dead ones from the front on the way. */
  peek(): E | undefined {
    while (this.head < this.items.length && this.items[this.head]!.gone) this.head++;
    this.compact();
    return this.items[this.head];
  }

  live(): E[] {
    return this.items.slice(this.head).filter((e) => !e.gone);
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

export class OfflineBuffer<E extends Buffered> {
  readonly #accounts = new Map<string, Fifo<E>>();
  /** Observability facts in arrival order across accounts: eviction candidates. */
  readonly #evictable = new Fifo<E>();
  #size = 0;

  constructor(
    readonly bound: number,
    readonly reserve: number,
  ) {
    if (!(bound >= 1) || !(reserve >= 0)) throw new RangeError('buffer bound must be ≥ 1 and reserve ≥ 0');
  }

  /** Facts accepted and not yet published, evicted or withdrawn. */
  get size(): number {
    return this.#size;
  }

  offer(entry: E): Offer<E> {
    let evicted: E | undefined;
    if (this.#size >= this.bound) {
      evicted = this.evictOldest();
      if (!evicted) {
        const record = isRecordType(entry.type);
        if (!record || entry.type === 'send.queued' || this.#size >= this.bound + this.reserve)
          return { accepted: false };
      }
    }
    let q = this.#accounts.get(entry.account);
    if (!q) {
      q = new Fifo<E>();
      this.#accounts.set(entry.account, q);
    }
    q.push(entry);
    if (!isRecordType(entry.type)) this.#evictable.push(entry);
    this.#size++;
    return evicted ? { accepted: true, evicted } : { accepted: true };
  }

  /** The account's next fact to publish. */
  head(account: string): E | undefined {
    return this.#accounts.get(account)?.peek();
  }

  /** Removes a fact: published (acked), or withdrawn before it was handed to NATS. */
  remove(entry: E): void {
    if (entry.gone) return;
    entry.gone = true;
    this.#size--;
  }

  /** Removes and returns every live fact of the account, in order (the account was fenced). */
  take(account: string): E[] {
    const q = this.#accounts.get(account);
    if (!q) return [];
    const live = q.live();
    for (const e of live) this.remove(e);
    this.#accounts.delete(account);
    return live;
  }

  /** Every live fact, per account in order. */
  all(): E[] {
    return [...this.#accounts.values()].flatMap((q) => q.live());
  }

  private evictOldest(): E | undefined {
    for (;;) {
      const e = this.#evictable.peek();
      if (!e) return undefined;
      if (e.attempted) {
        // Handed to NATS already: it leaves the candidates and is published normally.
        this.#evictable.head++;
        continue;
      }
      this.remove(e);
      return e;
    }
  }
}
