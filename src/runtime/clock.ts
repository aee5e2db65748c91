/**
 * The runtime's time: what it reads as "now" and how it waits. Every timer of an account
 * (the machine's, send deadlines, the drop defence, the pairing-code wait) goes through
 * one of these, so tests move time by hand instead of waiting for it.
 */

export interface Clock {
  now(): number;
  /**
   * Calls `fire` once `ms` have passed (at once-ish for ms ≤ 0); the returned function
   * cancels it. `keepAlive: false`: a pending call does not keep the process running.
   */
  after(ms: number, fire: () => void, options?: { keepAlive?: boolean }): () => void;
}

/** `setTimeout` holds at most 2^31-1 ms (~24.8 days); longer waits are re-armed in steps. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Real time: `Date.now` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, fire, options = {}) {
    const due = Date.now() + ms;
    let handle: NodeJS.Timeout;
    const arm = (wait: number) => {
      handle = setTimeout(
        () => {
          const left = due - Date.now();
          if (left > 0 && wait === MAX_TIMEOUT_MS) arm(Math.min(left, MAX_TIMEOUT_MS));
          else fire();
        },
        Math.max(0, wait),
      );
      if (options.keepAlive === false) handle.unref();
    };
    arm(Math.min(ms, MAX_TIMEOUT_MS));
    return () => clearTimeout(handle);
  },
};
