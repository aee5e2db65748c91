/**
 * Small waiting primitives of the NATS layer: an abortable sleep, the retry delay,
 * and conditions callers can await with a deadline (instead of polling).
 */

/** First retry fast (a lost ack across a restart), then back off to at most 1 s per attempt. */
export const RETRY_BASE_MS = 25;
/** Cap: NATS back after an outage is noticed within a second. */
export const RETRY_MAX_MS = 1_000;

export function backoffDelay(attempt: number, baseMs = RETRY_BASE_MS, maxMs = RETRY_MAX_MS): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

type Waiter = { ready: () => boolean; resolve: (ok: boolean) => void; timer: NodeJS.Timeout };

/** Conditions re-checked whenever the owner says something changed (`check()`). */
export class Waiters {
  #waiting: Waiter[] = [];

  /** True as soon as `ready()` holds (now or at a later `check()`), false after `timeoutMs`. */
  until(ready: () => boolean, timeoutMs: number): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w: Waiter = {
        ready,
        resolve,
        timer: setTimeout(() => {
          this.#waiting = this.#waiting.filter((x) => x !== w);
          resolve(false);
        }, timeoutMs),
      };
      this.#waiting.push(w);
    });
  }

  check(): void {
    if (this.#waiting.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.#waiting) {
      if (w.ready()) {
        clearTimeout(w.timer);
        w.resolve(true);
      } else still.push(w);
    }
    this.#waiting = still;
  }
}
