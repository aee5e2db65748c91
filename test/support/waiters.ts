/**
 * Waiting on a condition with a deadline, never a sleep: whoever changes the state calls
 * `poke()`, and every pending `until` re-checks its probe (and on an interval, when the
 * state lives somewhere that cannot poke, like a simulator in another process).
 */

/** Deadline for one awaited condition on loopback (a reconnect, a scrape, a page update). */
export const DEADLINE_MS = 15_000;
/** How often `until` re-checks state in another process (NATS, HTTP, a child's stdout). */
export const POLL_MS = 10;

/**
 * A condition: its value once it holds, `undefined` or `false` while it does not yet.
 * A throw (or a rejection) ends the wait with that error: a child that exited, a reply
 * that can never come.
 */
export type Probe<T> = () => T | undefined | false | Promise<T | undefined | false>;

export class Waiters {
  private readonly pending = new Set<() => void>();

  poke(): void {
    for (const check of [...this.pending]) check();
  }

  /**
   * Resolves with the first value `probe` returns that is neither undefined nor false,
   * checked now, on every `poke()` and every `pollMs` when given. `what` is read at the
   * deadline, so it can describe the state the wait ended in.
   */
  until<T>(what: string | (() => string), probe: Probe<T>, deadlineMs = DEADLINE_MS, pollMs?: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      // An async probe is never run twice at once; a poke while one runs checks again after it.
      let running = false;
      let again = false;
      const accept = (value: T | undefined | false): void => {
        if (settled || value === undefined || value === false) return;
        done();
        resolve(value);
      };
      const fail = (err: unknown): void => {
        if (settled) return;
        done();
        reject(err instanceof Error ? err : new Error(String(err)));
      };
      const check = (): void => {
        if (settled) return;
        if (running) {
          again = true;
          return;
        }
        let value: ReturnType<Probe<T>>;
        try {
          value = probe();
        } catch (err) {
          fail(err);
          return;
        }
        if (!(value instanceof Promise)) {
          accept(value);
          return;
        }
        running = true;
        value.then(
          (v) => {
            running = false;
            accept(v);
            if (again) {
              again = false;
              check();
            }
          },
          (err: unknown) => {
            running = false;
            fail(err);
          },
        );
      };
      const timer = setTimeout(() => {
        fail(new Error(`timed out after ${deadlineMs} ms waiting for ${typeof what === 'string' ? what : what()}`));
      }, deadlineMs);
      const poll = pollMs ? setInterval(check, pollMs) : undefined;
      const done = (): void => {
        settled = true;
        clearTimeout(timer);
        if (poll) clearInterval(poll);
        this.pending.delete(check);
      };
      this.pending.add(check);
      check();
    });
  }
}

/** `Waiters.until` for state nothing pokes about (another process): re-checked every `pollMs`. */
export function until<T>(
  what: string | (() => string),
  probe: Probe<T>,
  deadlineMs = DEADLINE_MS,
  pollMs = POLL_MS,
): Promise<T> {
  return new Waiters().until(what, probe, deadlineMs, pollMs);
}
