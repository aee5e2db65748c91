/**
 * The wait before the next attempt: exponential with full jitter (a random delay up
 * to the ceiling), so the retries of many accounts after an outage do not arrive at
 * the receiver in lockstep. A receiver's `Retry-After` wins, capped like the rest.
 */
export type RetryPolicy = { attempts: number; baseMs: number; capMs: number };

export function retryDelay(
  policy: RetryPolicy,
  failedAttempts: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(policy.capMs, retryAfterMs);
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(failedAttempts - 1, 30));
  return Math.floor(random() * ceiling);
}
