/**
 * Which accounts this gateway knows, as commands see it. An account is *adopted* once
 * the runtime has it (taken over, rebuilt, outbox handed over). Before that, an account
 * the gateway was configured with, or one an `accounts.add` is adding, is *being
 * adopted*: its commands get the retryable `unavailable`, never `unknown_account`
 * (which a client following docs/subjects.md would treat as final and drop the message).
 *
 * Accounts are adopted concurrently, at most `ADOPT_CONCURRENCY` at a time, so one
 * account whose takeover is slow or retried does not hold up the others.
 */
import { WaError } from '../contract/index.js';
import type { AccountsPort } from '../runtime/port.js';

/**
 * Takeovers running at once at start. Each fences the account (one publish per event
 * subject), opens an ordered consumer and reads the account's history: a few keep the
 * server and this process busy without a thundering herd of consumers at 50 accounts,
 * and a stalled one (retried, see READ_STALL_MS) leaves the other slots moving.
 */
export const ADOPT_CONCURRENCY = 4;

export class Adoptions {
  /** Announced (the config's accounts) and not adopted or given up yet. */
  readonly #announced = new Set<string>();
  /** Adoptions in progress, so a second `add` of the same account joins the first. */
  readonly #running = new Map<string, Promise<void>>();
  /** Accounts being handed over to another process (leases): commands get `unavailable`. */
  readonly #releasing = new Set<string>();

  constructor(
    private readonly accounts: Pick<AccountsPort, 'has'>,
    /** Failed takeover attempts so far, for the `unavailable` message. */
    private readonly failures: (account: string) => number = () => 0,
  ) {}

  /** Accounts that will be adopted shortly: until then they are known, not unknown. */
  announce(accounts: readonly string[]): void {
    for (const a of accounts) if (!this.accounts.has(a)) this.#announced.add(a);
  }

  /** Runs `adopt` once per account at a time; a concurrent call joins the running one. */
  run(account: string, adopt: () => Promise<void>): Promise<void> {
    const running = this.#running.get(account);
    if (running) return running;
    const p = adopt().finally(() => {
      this.#running.delete(account);
      this.#announced.delete(account);
    });
    this.#running.set(account, p);
    return p;
  }

  /** Runs `release` while the account's commands get `unavailable` (a handoff to another process). */
  async release(account: string, release: () => Promise<void>): Promise<void> {
    this.#releasing.add(account);
    try {
      await release();
    } finally {
      this.#releasing.delete(account);
    }
  }

  /** Runs here now or soon: in the runtime, being adopted, or being handed over. */
  isLocal(account: string): boolean {
    return this.accounts.has(account) || this.#releasing.has(account) || this.isAdopting(account);
  }

  isAdopting(account: string): boolean {
    return !this.accounts.has(account) && (this.#running.has(account) || this.#announced.has(account));
  }

  /** The account, if commands may use it now; else `unavailable` (being adopted) or `unknown_account`. */
  require(account: string): string {
    if (this.#releasing.has(account))
      throw new WaError('unavailable', `account "${account}" is being handed over to another gateway process; retry`);
    if (this.accounts.has(account)) return account;
    if (this.isAdopting(account)) {
      const n = this.failures(account);
      const why =
        n > 0
          ? `; ${n} takeover attempt${n > 1 ? 's' : ''} failed so far (NATS unreachable?), see the gateway log`
          : '';
      throw new WaError(
        'unavailable',
        `account "${account}" is being taken over by this gateway (fenced and rebuilt from WA_EVENTS)${why}; retry`,
      );
    }
    throw new WaError('unknown_account', `no account "${account}" on this gateway`);
  }
}

/**
 * Runs `fn` for every item, at most `limit` at once, in order of the list; settles when
 * all have (one failure does not stop the rest).
 */
export async function inPool<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<PromiseSettledResult<void>[]> {
  const results: PromiseSettledResult<void>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        await fn(items[i] as T);
        results[i] = { status: 'fulfilled', value: undefined };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
