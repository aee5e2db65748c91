/**
 * The pure core of account ownership (docs/scaling.md): what a process has seen of
 * `WA_OWNERS`, and what it should do about it. No NATS, no timers: every question takes
 * `now` from the caller's clock, so tests move time by hand.
 *
 * **Expiry without trusting anyone's wall clock.** nats-server 2.9 has no per-key TTL,
 * so a lease is a value the owner rewrites (a new revision) every `ttlMs / 3`. A taker
 * never compares the owner's timestamp with its own clock (they may be skewed by
 * minutes). It measures on its *own* monotonic clock from the moment it *saw* the key's
 * revision change: a lease is expired when no new revision was seen for the owner's
 * `ttlMs`. A key seen for the first time counts from that moment, so a process that has
 * just started waits a whole TTL before it takes a held lease: it cannot know how old
 * the last renewal is. The owner, in turn, counts from the moment it *sent* its last
 * successful renewal, which is before any taker saw it, and gives up `marginMs` earlier
 * still (`ownerDeadline`): it stops before anyone may start.
 */
import type { Lease, ProcessRecord } from './lease-record.js';

export type Seen<T> = {
  revision: number;
  /** null: deleted, or not parsable (an account key with a bad value counts as held by nobody we know: never free until it changes and expires). */
  value: T | null;
  deleted: boolean;
  /** The observer's clock when this revision was first seen. */
  seenAt: number;
};

export type Free = 'absent' | 'released' | 'expired';

export type PlanInput = {
  now: number;
  /** Accounts this process holds (its CAS succeeded and it renews them). */
  mine: ReadonlySet<string>;
  /** Accounts it is acquiring or releasing right now. */
  busy: ReadonlySet<string>;
  /** Accounts not to take now (their start failed here a moment ago). */
  skip?: ReadonlySet<string>;
  maxAccounts: number;
  /** Most acquisitions to start in one step (the takeover pool). */
  batch: number;
  /** Whether a rebalancing release may start now (one per interval). */
  mayRelease: boolean;
};

export type Plan = { acquire: string[]; release: string | null; target: number };

export class LeaseBook {
  readonly #accounts = new Map<string, Seen<Lease> | undefined>();
  readonly #processes = new Map<string, Seen<ProcessRecord>>();

  constructor(
    readonly me: string,
    accounts: readonly string[],
    /** Used for a lease value that does not parse (its owner's TTL is unknown). */
    private readonly defaultTtlMs: number,
  ) {
    for (const a of accounts) this.#accounts.set(a, undefined);
  }

  get accounts(): string[] {
    return [...this.#accounts.keys()];
  }

  /** Records a key's value; returns false when the revision is not newer than what was seen. */
  observeAccount(account: string, revision: number, value: Lease | null, deleted: boolean, now: number): boolean {
    if (!this.#accounts.has(account)) return false; // not an account of this deployment
    const prev = this.#accounts.get(account);
    if (prev && prev.revision >= revision) return false;
    this.#accounts.set(account, { revision, value, deleted, seenAt: now });
    return true;
  }

  observeProcess(writer: string, revision: number, value: ProcessRecord | null, deleted: boolean, now: number): void {
    const prev = this.#processes.get(writer);
    if (prev && prev.revision >= revision) return;
    if (deleted) this.#processes.delete(writer);
    else this.#processes.set(writer, { revision, value, deleted, seenAt: now });
  }

  lease(account: string): Seen<Lease> | undefined {
    return this.#accounts.get(account);
  }

  /** Why the account may be taken now, or null when someone holds it. */
  free(account: string, now: number): Free | null {
    const s = this.#accounts.get(account);
    if (!s || s.deleted) return 'absent';
    if (s.value?.state === 'released') return 'released';
    const ttl = s.value?.ttlMs ?? this.defaultTtlMs;
    return now - s.seenAt > ttl ? 'expired' : null;
  }

  /** The writer holding the account as far as this process can tell (null: free). */
  owner(account: string, now: number): string | null {
    if (this.free(account, now)) return null;
    return this.#accounts.get(account)?.value?.writer ?? 'unknown';
  }

  /** Processes whose key changed within their TTL, this one always included. */
  liveProcesses(now: number): string[] {
    const live = new Set([this.me]);
    for (const [w, s] of this.#processes) if (now - s.seenAt <= (s.value?.ttlMs ?? this.defaultTtlMs)) live.add(w);
    return [...live].sort();
  }

  /** Accounts divided by live processes, rounded up: what each should hold when balanced. */
  fairShare(now: number): number {
    return Math.ceil(this.#accounts.size / this.liveProcesses(now).length);
  }

  /**
   * One step of the balancing rule (docs/scaling.md, "Balancing"): hold up to
   * `min(maxAccounts, fairShare)`; take free accounts up to it, `batch` at a time; above
   * it, let one account go per interval. The order accounts are tried in is a hash of
   * (process, account), so processes racing for free accounts mostly try different ones.
   */
  plan(p: PlanInput): Plan {
    const target = Math.min(p.maxAccounts, this.fairShare(p.now));
    const held = p.mine.size + [...p.busy].filter((a) => !p.mine.has(a)).length;
    const acquire: string[] = [];
    if (held < target) {
      const free = this.accounts.filter(
        (a) => !p.mine.has(a) && !p.busy.has(a) && !p.skip?.has(a) && this.free(a, p.now) !== null,
      );
      free.sort((a, b) => rank(this.me, a) - rank(this.me, b));
      acquire.push(...free.slice(0, Math.min(target - held, p.batch)));
    }
    let release: string | null = null;
    if (p.mayRelease && p.mine.size > target) {
      const candidates = [...p.mine].filter((a) => !p.busy.has(a));
      candidates.sort((a, b) => rank(this.me, b) - rank(this.me, a));
      release = candidates[0] ?? null;
    }
    return { acquire, release, target };
  }
}

/** The owner's own deadline: from when it sent its last successful renewal, `marginMs` short of the TTL. */
export function ownerDeadline(renewSentAt: number, ttlMs: number, marginMs: number): number {
  return renewSentAt + ttlMs - marginMs;
}

/** FNV-1a of process and account: a stable, per-process order of accounts. */
export function rank(writer: string, account: string): number {
  let h = 0x811c9dc5;
  for (const ch of `${writer}\u0000${account}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
