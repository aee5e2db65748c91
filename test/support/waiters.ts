/**
 * Waiting on a condition with a deadline, never a sleep: whoever changes the state calls
 * `poke()`, and every pending `until` re-checks its probe (and on an interval, when the
 * state lives somewhere that cannot poke, like a simulator in another process).
 */
export class Waiters {
  private readonly pending = new Set<() => void>();

  poke(): void {
    for (const check of [...this.pending]) check();
  }

  /** Resolves with the first value `probe` returns that is not undefined. */
  until<T>(what: string, probe: () => T | undefined, deadlineMs: number, pollMs?: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        let value: T | undefined;
        try {
          value = probe();
        } catch (err) {
          done();
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (value === undefined) return;
        done();
        resolve(value);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${deadlineMs} ms waiting for ${what}`));
      }, deadlineMs);
      const poll = pollMs ? setInterval(check, pollMs) : undefined;
      const done = (): void => {
        clearTimeout(timer);
        if (poll) clearInterval(poll);
        this.pending.delete(check);
      };
      this.pending.add(check);
      check();
    });
  }
}
