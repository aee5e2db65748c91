/**
 * Waits until every account's outbox is empty (its `status`), as long as the outboxes
 * keep shrinking: slow is not stuck. Stopped accounts (a 440 fault) get the operator's
 * `connect`. Resolves with what was left (0 = settled) and the last statuses.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { cmdSubject } from '../../../src/contract/index.js';
import { request } from '../nats-client.js';
import { until } from '../waiters.js';

/** Outboxes that have not shrunk for this long are stuck, not slow. */
export const SETTLE_STALL_MS = 60_000;
/** The wait's hard cap, progress or not. */
export const SETTLE_CAP_MS = 15 * 60_000;

export async function settleOutboxes(
  nc: NatsConnection,
  accounts: readonly string[],
  log: (line: string) => void,
): Promise<{ left: number; statuses: Record<string, unknown>[] }> {
  let best = Infinity;
  let progressAt = Date.now();
  let left = Infinity;
  let statuses: Record<string, unknown>[] = [];
  await until(
    'every outbox empty',
    async () => {
      const now: Record<string, unknown>[] = [];
      let depth = 0;
      for (const a of accounts) {
        const s = await request(nc, cmdSubject(a, 'status'), undefined, 2_000).catch(() => undefined);
        if (!s?.ok) return false;
        now.push({ account: a, state: s['state'], outbox: s['outbox'] });
        if (s['state'] === 'stopped')
          await request(nc, cmdSubject(a, 'connect'), undefined, 2_000).catch(() => undefined);
        depth += (s['outbox'] as { depth: number }).depth;
      }
      statuses = now;
      left = depth;
      if (depth < best) {
        best = depth;
        progressAt = Date.now();
      } else if (Date.now() - progressAt > SETTLE_STALL_MS)
        throw new Error(`outboxes stuck at ${depth} for ${SETTLE_STALL_MS} ms: ${JSON.stringify(statuses)}`);
      return depth === 0;
    },
    SETTLE_CAP_MS,
    1_000,
  ).catch((err: unknown) => log(`settle: ${err instanceof Error ? err.message : String(err)}`));
  return { left, statuses };
}
