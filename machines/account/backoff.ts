import type { AccountTimings } from './timings.js';
import { nextRandom } from './random.js';

/** Ceiling for the n-th consecutive attempt (1-based): base · 2^(n-1), capped. */
export function backoffCeiling(attempt: number, t: Pick<AccountTimings, 'backoffBaseMs' | 'backoffCapMs'>): number {
  const exp = Math.min(attempt - 1, 30); // 2^30 · base is far past any cap
  return Math.min(t.backoffCapMs, t.backoffBaseMs * 2 ** Math.max(0, exp));
}

/**
 * Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): uniform in
 * [0, ceiling). Accounts dropped together by one server event spread their retries
 * instead of reconnecting in a storm.
 */
export function fullJitterDelay(
  attempt: number,
  rng: number,
  t: Pick<AccountTimings, 'backoffBaseMs' | 'backoffCapMs'>,
): [delayMs: number, rng: number] {
  const [r, next] = nextRandom(rng);
  return [Math.floor(r * backoffCeiling(attempt, t)), next];
}
