/**
 * A clock that moves only when a test says so: `advance` fires every timer that falls
 * due, in order, at its own time. Implements the runtime's Clock (src/runtime/clock.ts).
 */
import type { Clock } from '../../src/runtime/clock.js';

export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, { due: number; fire: () => void }>();

  constructor(start = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  after(ms: number, fire: () => void): () => void {
    const id = ++this.#seq;
    this.#timers.set(id, { due: this.#now + Math.max(0, ms), fire });
    return () => this.#timers.delete(id);
  }

  /** Timers armed and not yet fired or cancelled. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time on by `ms`, firing what falls due on the way (timers armed meanwhile too). */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      let next: [number, { due: number; fire: () => void }] | undefined;
      for (const entry of this.#timers)
        if (entry[1].due <= until && (!next || entry[1].due < next[1].due)) next = entry;
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].due);
      next[1].fire();
    }
    this.#now = until;
  }
}
