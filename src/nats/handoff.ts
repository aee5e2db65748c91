/**
 * Giving an account to another gateway process (leases, docs/scaling.md): the NATS
 * layer's half of a handoff. `release` is the planned one (SIGTERM, rebalancing):
 * nothing fails and nothing is lost. `drop` is the unplanned one (the lease was lost):
 * the account stops at once.
 *
 * A planned release, in order:
 * 1. commands for the account get `unavailable` (retry; the next owner answers them);
 * 2. sends whose `send.queued` is in flight are awaited, so each is handed to the
 *    runtime (a send recorded but not handed over is still in the outbox, see 4);
 * 3. the runtime drains the account: held sends stay held, in-flight ones are awaited up
 *    to the drain deadline, then the socket closes;
 * 4. its facts are flushed to `WA_EVENTS`, then `owner.released`; from here the
 *    stream's outbox is what the next owner rebuilds and sends (same WhatsApp ids);
 * 5. the publisher stops writing the account. The caller then marks the lease released.
 */
import type { Logger } from 'pino';
import type { AccountsPort, Fact } from '../runtime/port.js';
import type { Adoptions } from './adoption.js';
import type { EventPublisher } from './event-publisher.js';
import type { Sends } from './sends.js';

/** How long a release waits for the account's facts to reach the stream: a handoff must not hang on a NATS outage. */
export const RELEASE_FLUSH_MS = 3_000;

export type HandoffDeps = {
  accounts: AccountsPort;
  adoptions: Adoptions;
  sends: Sends;
  publisher: EventPublisher;
  logger: Logger;
};

/** Planned: drain, flush, record `last` (the `owner.released` fact), stop writing. */
export async function releaseAccount(d: HandoffDeps, account: string, last?: Fact): Promise<void> {
  const log = d.logger.child({ account });
  const started = Date.now();
  await d.adoptions.release(account, async () => {
    await d.sends.settled(account);
    if (d.accounts.has(account)) await d.accounts.remove(account);
    const flushed = await d.publisher.flushed(account, RELEASE_FLUSH_MS);
    if (last) d.publisher.sink(last);
    const recorded = await d.publisher.flushed(account, RELEASE_FLUSH_MS);
    d.publisher.release(account);
    log.info({ flushed: flushed && recorded, tookMs: Date.now() - started }, 'account released to another process');
  });
}

/**
 * Unplanned (the lease is gone): the socket closes at once, no drain. What the account
 * had buffered is still published if the stream takes it (true facts; a new owner that
 * fenced already refuses them, which is the fence doing its job), then it is not written.
 */
export async function dropAccount(d: HandoffDeps, account: string, why: string): Promise<void> {
  d.logger.child({ account }).warn({ why }, 'lease lost: account stopped (another process may own it now)');
  if (d.accounts.has(account)) await d.accounts.remove(account, 0);
  await d.publisher.flushed(account, RELEASE_FLUSH_MS);
  d.publisher.release(account);
}
