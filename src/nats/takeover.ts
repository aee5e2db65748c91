/**
 * Which accounts the publisher writes, and how it comes to write one: the takeover.
 * Apart from event-publisher.ts because it runs once per account (again only after a
 * fence, when the account is re-added), while the publisher's loop runs for every fact.
 *
 * An account's writer goes adopting → ready → fenced. Taking accounts over: fence
 * markers on every subject of each (docs/architecture.md, "Fencing one writer per
 * account"), then one read of their history into fresh views that replace the
 * projection's, then the facts accepted while it read on top; only then is the account
 * ready and its publish loop started. A failed attempt is retried until NATS answers.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { evtFilter, type RetentionClass, type WaEvent } from '../contract/index.js';
import type { EventCounters } from './counters.js';
import { readEvents } from './event-reader.js';
import { FencedWriter } from './fenced-writer.js';
import { emptyView, evolve, type Projection } from './projection.js';
import { backoffDelay, sleep } from './waiting.js';

/** A takeover that failed (fence or read) is retried after this, doubling: a lost request across a restart is retried soon. */
export const TAKEOVER_RETRY_BASE_MS = 100;
/** ...up to this: while NATS is away an account is re-tried every 2 s, so it is adopted within ~2 s of NATS coming back. */
export const TAKEOVER_RETRY_MAX_MS = 2_000;

export type AccountWriter = {
  writer: FencedWriter;
  phase: 'adopting' | 'ready' | 'fenced';
  /** The next per-account seq of each retention class (docs/subjects.md, `seq`). */
  nextSeq: Record<RetentionClass, number>;
  pumping: boolean;
  logger: Logger;
  /** Failed takeover attempts so far (reset once taken over). */
  takeoverFailures: number;
};

export type TakeoverOptions = {
  js: JetStreamClient;
  jsm: JetStreamManager;
  writerId: string;
  publishTimeoutMs: number;
  logger: Logger;
  projection: Projection;
  counters: EventCounters;
  /** Aborts a retry's wait when the publisher closes. */
  signal: AbortSignal;
  closed: () => boolean;
  /** The account's facts accepted (still buffered) while its history was read, in order. */
  buffered: (account: string) => WaEvent[];
  /** The account is taken over: start publishing it. */
  ready: (account: string) => void;
};

export class Takeovers {
  readonly #writers = new Map<string, AccountWriter>();
  /** The takeover each account was (or is being) adopted by. */
  readonly #adoptions = new Map<string, Promise<void>>();

  constructor(private readonly o: TakeoverOptions) {}

  /** The account's writer, if it was ever adopted. */
  get(account: string): AccountWriter | undefined {
    return this.#writers.get(account);
  }

  /**
   * Takes accounts over: fence markers on every subject, then one read of the whole
   * stream into the projection, then publishing starts. Retries until NATS answers.
   */
  adopt(accounts: readonly string[]): Promise<void> {
    // A fenced account may be taken back (an operator re-adds it): it starts over with a new writer.
    for (const a of accounts) if (this.#writers.get(a)?.phase === 'fenced') this.#writers.delete(a);
    const fresh = accounts.filter((a) => !this.#writers.has(a));
    for (const a of fresh) this.state(a);
    const takeover = fresh.length > 0 ? this.takeOver(fresh) : Promise.resolve();
    for (const a of fresh) this.#adoptions.set(a, takeover);
    // Callers must not see an account as adopted while an earlier takeover is still reading it.
    const earlier = accounts.filter((a) => !fresh.includes(a)).map((a) => this.#adoptions.get(a));
    return Promise.all([takeover, ...earlier]).then(() => undefined);
  }

  /** The account was handed to another process: stop writing it (a later `adopt` takes it over afresh). */
  release(account: string): void {
    const st = this.#writers.get(account);
    if (st) st.phase = 'fenced';
  }

  /** Failed takeover attempts of an account still being adopted (0 when adopted or unknown). */
  failures(account: string): number {
    const st = this.#writers.get(account);
    return st?.phase === 'adopting' ? st.takeoverFailures : 0;
  }

  private async takeOver(fresh: string[]): Promise<void> {
    const started = Date.now();
    for (let attempt = 0; !this.o.closed(); attempt++) {
      try {
        await Promise.all(fresh.map((a) => this.fenceOnce(a)));
        const views = new Map(fresh.map((a) => [a, emptyView(a)]));
        const filter = fresh.length === 1 ? evtFilter(fresh[0]) : evtFilter();
        await readEvents(
          this.o.js,
          this.o.jsm,
          filter,
          (e) => {
            const v = views.get(e.account);
            if (v) evolve(v, e);
            else if (!this.#writers.has(e.account)) this.o.projection.apply(e);
          },
          this.o.logger,
        );
        for (const [a, view] of views) {
          const st = this.state(a);
          this.o.projection.replace(view);
          // Facts accepted while the takeover read the stream come after its history.
          for (const e of this.o.buffered(a)) this.o.projection.live(e);
          st.nextSeq = { records: view.lastSeq + 1, liveness: view.livenessSeq + 1 };
          st.phase = 'ready';
          const retried =
            st.takeoverFailures > 0 ? { failedAttempts: st.takeoverFailures, tookMs: Date.now() - started } : {};
          st.takeoverFailures = 0;
          st.logger.info(
            { lastSeq: view.lastSeq, livenessSeq: view.livenessSeq, outbox: view.outbox.size, ...retried },
            'account taken over: fenced and rebuilt from WA_EVENTS',
          );
          this.o.ready(a);
        }
        return;
      } catch (err) {
        const retryInMs = backoffDelay(attempt, TAKEOVER_RETRY_BASE_MS, TAKEOVER_RETRY_MAX_MS);
        for (const a of fresh) {
          const st = this.state(a);
          st.takeoverFailures++;
          this.o.counters.takeoverFailures++;
          // Every failure while NATS is away would be a line every 2 s: log the 1st, 2nd, 4th, 8th, …
          if ((st.takeoverFailures & (st.takeoverFailures - 1)) === 0) {
            st.logger.warn(
              { err, failedAttempts: st.takeoverFailures, retryInMs },
              'takeover (fence and read of WA_EVENTS) failed; retrying',
            );
          }
        }
        await sleep(retryInMs, this.o.signal);
      }
    }
  }

  private state(account: string): AccountWriter {
    let st = this.#writers.get(account);
    if (!st) {
      const writer = new FencedWriter(account, this.o.writerId, this.o.js, this.o.jsm, this.o.publishTimeoutMs);
      st = {
        writer,
        phase: 'adopting',
        nextSeq: { records: 1, liveness: 1 },
        pumping: false,
        logger: this.o.logger.child({ account }),
        takeoverFailures: 0,
      };
      this.#writers.set(account, st);
    }
    return st;
  }

  private async fenceOnce(account: string): Promise<void> {
    this.o.counters.fenceMarkers += await this.state(account).writer.fence();
  }
}
