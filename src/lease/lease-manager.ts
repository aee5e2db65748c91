/**
 * Account ownership by lease in `WA_OWNERS` (docs/scaling.md): the IO around the pure
 * `LeaseBook`. It watches the bucket, keeps its own process key alive, takes free
 * accounts by compare-and-set (`kv.create` / `kv.update(key, value, revision)`), renews
 * what it holds every `ttlMs / 3`, gives accounts back when above its fair share or on
 * shutdown, and stops an account the moment the lease is lost. What happens to the account
 * is the caller's (`LeaseHooks`, src/gateway/lease-wiring.ts): this only decides who owns what.
 */
import { hostname } from 'node:os';
import type { KV, KvEntry } from '@nats-io/kv';
import type { Logger } from 'pino';
import type { Clock } from '../runtime/clock.js';
import { retrySetup } from '../nats/setup-retry.js';
import { LeaseBook, ownerDeadline } from './lease-book.js';
import {
  accountKey,
  decodeLease,
  decodeProcess,
  encodeRecord,
  type Lease,
  OWNERS_BUCKET,
  parseKey,
  processKey,
  type ProcessRecord,
} from './lease-record.js';

/** Why an owner lets an account go: shutdown (SIGTERM), rebalancing, or a failed start. */
export type ReleaseReason = 'shutdown' | 'rebalance' | 'start_failed';

export type Previous = { writer: string; expired: boolean } | null;

export type LeaseHooks = {
  /** The lease is ours: take the account over and run it (fence, rebuild, owner events, connect). */
  start(account: string, previous: Previous): Promise<void>;
  /** Drain the account and record `owner.released`; the lease is still ours meanwhile. */
  release(account: string, reason: ReleaseReason): Promise<void>;
  /** The lease is gone: stop the account at once; publish nothing (the new owner's fence would refuse it). */
  lost(account: string, why: string): void;
};

export type LeaseOptions = {
  kv: KV;
  writerId: string;
  accounts: readonly string[];
  maxAccounts: number;
  ttlMs: number;
  /** At most one rebalancing release per this interval. */
  rebalanceEveryMs: number;
  clock: Clock;
  random?: () => number;
  logger: Logger;
  hooks: LeaseHooks;
};

/** Acquisitions started in one step: as many takeovers as the adoption pool runs at once. */
export const ACQUIRE_BATCH = 4;
/** Largest wait before acting on a freed account, scaled by load: the least-loaded process usually gets there first. */
export const ACQUIRE_JITTER_MS = 100;
/** How often the plan is looked at besides bucket changes: expiries are noticed within this. */
const PLAN_EVERY_MS = 250;

type Held = { revision: number; renewSentAt: number };

export class LeaseManager {
  readonly book: LeaseBook;
  readonly #mine = new Map<string, Held>();
  readonly #busy = new Set<string>();
  /** Accounts whose start failed here, and until when this process leaves them to others. */
  readonly #cooldown = new Map<string, number>();
  readonly #o: LeaseOptions;
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #host = hostname();
  #lastRenewAt = 0;
  #lastReleaseAt = Number.NEGATIVE_INFINITY;
  #stopping = false;
  #closed = false;
  #cancelTick: (() => void) | null = null;
  #cancelSoon: (() => void) | null = null;
  #watch: { stop(): void } | null = null;

  constructor(o: LeaseOptions) {
    this.#o = o;
    this.#random = o.random ?? Math.random;
    this.#log = o.logger.child({ writerId: o.writerId });
    this.book = new LeaseBook(o.writerId, o.accounts, o.ttlMs);
  }

  /** Registers the process, reads the bucket (watch, then a snapshot), plans. A new R3 bucket may lack a leader: retried. */
  async start(): Promise<void> {
    const setup = { clock: this.#o.clock, streamExists: true };
    await retrySetup(`${OWNERS_BUCKET} process key`, () => this.heartbeat(), this.#log, setup);
    const watch = await retrySetup(`${OWNERS_BUCKET} watch`, () => this.#o.kv.watch({ key: '>' }), this.#log, setup);
    this.#watch = watch;
    void (async () => {
      for await (const e of watch) this.observe(e);
    })().catch((err: unknown) => this.#log.warn({ err }, 'WA_OWNERS watch ended'));
    for await (const key of await this.#o.kv.keys()) {
      const e = await this.#o.kv.get(key);
      if (e) this.observe(e);
    }
    this.tick();
  }

  /** Accounts this process holds. */
  held(): string[] {
    return [...this.#mine.keys()].sort();
  }

  /** The account's writer was fenced off (another took it): the lease is gone too. */
  fenced(account: string): void {
    if (this.#mine.delete(account)) this.#o.hooks.lost(account, 'fenced by another writer');
  }

  /** SIGTERM: take nothing more, drain and release every account, remove the process key. */
  async shutdown(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.held().map((a) => this.release(a, 'shutdown')));
    await this.#o.kv.delete(processKey(this.#o.writerId)).catch(() => undefined);
    this.close();
  }

  close(): void {
    this.#closed = true;
    this.#cancelTick?.();
    this.#cancelSoon?.();
    this.#watch?.stop();
  }

  private observe(e: KvEntry): void {
    const key = parseKey(e.key);
    const now = this.#o.clock.now();
    const deleted = e.operation !== 'PUT';
    if (key?.kind === 'process') {
      this.book.observeProcess(key.writer, e.revision, deleted ? null : decodeProcess(e.value), deleted, now);
      return;
    }
    if (key?.kind !== 'account') return;
    const lease = deleted ? null : decodeLease(e.value);
    if (!this.book.observeAccount(key.account, e.revision, lease, deleted, now)) return;
    const mine = this.#mine.get(key.account);
    // Someone else wrote our key: the lease is theirs now, whatever we believed.
    if (mine && e.revision > mine.revision && lease?.writer !== this.#o.writerId) {
      this.#mine.delete(key.account);
      this.#o.hooks.lost(key.account, `taken by ${lease?.writer ?? 'an unknown writer'}`);
    }
    if (this.book.free(key.account, now)) this.soon();
  }

  /** A plan step after a short jitter, longer the more this process holds. */
  private soon(): void {
    if (this.#cancelSoon || this.#closed) return;
    const load = this.#mine.size / Math.max(1, this.book.fairShare(this.#o.clock.now()));
    this.#cancelSoon = this.#o.clock.after(this.#random() * ACQUIRE_JITTER_MS * (1 + load), () => {
      this.#cancelSoon = null;
      this.step();
    });
  }

  private tick(): void {
    if (this.#closed) return;
    this.step();
    this.#cancelTick = this.#o.clock.after(PLAN_EVERY_MS, () => this.tick(), { keepAlive: false });
  }

  private step(): void {
    const now = this.#o.clock.now();
    const { ttlMs } = this.#o;
    // The owner's own deadline (lease-book.ts): a renewal that has not succeeded in time loses the account.
    for (const [account, h] of this.#mine) {
      if (now > ownerDeadline(h.renewSentAt, ttlMs, ttlMs / 9)) {
        this.#mine.delete(account);
        this.#o.hooks.lost(account, 'lease not renewed in time');
      }
    }
    if (now - this.#lastRenewAt >= ttlMs / 3) {
      this.#lastRenewAt = now;
      void this.renewAll();
    }
    if (this.#stopping) return;
    for (const [a, until] of this.#cooldown) if (now >= until) this.#cooldown.delete(a);
    const plan = this.book.plan({
      now,
      mine: new Set(this.#mine.keys()),
      busy: this.#busy,
      skip: new Set(this.#cooldown.keys()),
      maxAccounts: this.#o.maxAccounts,
      batch: ACQUIRE_BATCH,
      mayRelease: now - this.#lastReleaseAt >= this.#o.rebalanceEveryMs,
    });
    for (const account of plan.acquire) void this.acquire(account);
    if (plan.release) {
      this.#lastReleaseAt = now;
      this.#log.info({ account: plan.release, held: this.#mine.size, target: plan.target }, 'rebalancing: releasing');
      void this.release(plan.release, 'rebalance');
    }
  }

  private lease(state: Lease['state']): Lease {
    return {
      v: 1,
      writer: this.#o.writerId,
      host: this.#host,
      pid: process.pid,
      state,
      ttlMs: this.#o.ttlMs,
      at: new Date().toISOString(),
    };
  }

  private async acquire(account: string): Promise<void> {
    const now = this.#o.clock.now();
    const seen = this.book.lease(account);
    const why = this.book.free(account, now);
    if (!why || this.#busy.has(account) || this.#mine.has(account)) return;
    this.#busy.add(account);
    try {
      const value = encodeRecord(this.lease('held'));
      const revision =
        seen === undefined
          ? await this.#o.kv.create(accountKey(account), value)
          : await this.#o.kv.update(accountKey(account), value, seen.revision);
      this.#mine.set(account, { revision, renewSentAt: now });
      const prevWriter = seen?.value?.writer;
      const previous =
        prevWriter && prevWriter !== this.#o.writerId ? { writer: prevWriter, expired: why === 'expired' } : null;
      this.#log.info({ account, revision, free: why, previous: prevWriter }, 'lease acquired');
      try {
        await this.#o.hooks.start(account, previous);
      } catch (err) {
        this.#log.error({ err, account }, 'could not start the account; giving its lease back');
        this.#cooldown.set(account, this.#o.clock.now() + this.#o.rebalanceEveryMs);
        this.#busy.delete(account);
        await this.release(account, 'start_failed');
        return;
      }
    } catch (err) {
      // Another process won the compare-and-set: normal in a race, nothing to undo.
      this.#log.debug({ err, account }, 'lease not acquired');
    } finally {
      this.#busy.delete(account);
    }
  }

  private async release(account: string, reason: ReleaseReason): Promise<void> {
    if (this.#busy.has(account) && reason !== 'shutdown') return;
    this.#busy.add(account);
    try {
      await this.#o.hooks.release(account, reason).catch((err: unknown) => {
        this.#log.error({ err, account }, 'draining the account failed; releasing its lease anyway');
      });
      const held = this.#mine.get(account);
      if (!held) return; // lost meanwhile: nothing of ours to release
      this.#mine.delete(account);
      await this.#o.kv.update(accountKey(account), encodeRecord(this.lease('released')), held.revision);
      this.#log.info({ account, reason }, 'lease released');
    } catch (err) {
      this.#log.warn({ err, account }, 'could not mark the lease released; it expires after its TTL');
    } finally {
      this.#busy.delete(account);
    }
  }

  private async renewAll(): Promise<void> {
    await this.heartbeat().catch((err: unknown) => this.#log.warn({ err }, 'process key not renewed'));
    await Promise.all(
      [...this.#mine].map(async ([account, h]) => {
        const sentAt = this.#o.clock.now();
        try {
          const revision = await this.#o.kv.update(accountKey(account), encodeRecord(this.lease('held')), h.revision);
          if (this.#mine.get(account) === h) this.#mine.set(account, { revision, renewSentAt: sentAt });
        } catch (err) {
          if (isWrongRevision(err) && this.#mine.get(account) === h) {
            this.#mine.delete(account);
            this.#o.hooks.lost(account, 'renewal refused: another process holds the lease');
          } else this.#log.warn({ err, account }, 'lease renewal failed; retrying');
        }
      }),
    );
  }

  private async heartbeat(): Promise<void> {
    const rec: ProcessRecord = {
      v: 1,
      writer: this.#o.writerId,
      host: this.#host,
      pid: process.pid,
      maxAccounts: this.#o.maxAccounts,
      ttlMs: this.#o.ttlMs,
      at: new Date().toISOString(),
    };
    await this.#o.kv.put(processKey(this.#o.writerId), encodeRecord(rec));
  }
}

/** JetStream 10071 "wrong last sequence": the key moved on since our revision. */
function isWrongRevision(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === 10071 || (typeof e?.message === 'string' && e.message.includes('wrong last sequence'));
}
