/**
 * The timers whose firings become machine events: one per slot of the account machine
 * (machines/account/timers.ts), and one deadline per held send. Arming a slot replaces
 * whatever was armed in it (the machine arms on state entry and disarms on exit); the
 * firing reports how late it came, which is how a blocked event loop shows itself.
 */
import type { TimerRequest, TimerSlot } from '../../machines/index.js';
import type { Clock } from './clock.js';

export interface TimerFiring {
  at: number;
  armedAt: number;
  lateMs: number;
}

/** What the runtime needs of its timers; tests substitute ones they fire by hand. */
export interface AccountTimer {
  arm(request: TimerRequest, fire: (firing: TimerFiring) => void): void;
  /** Clear one slot, or every slot and every send deadline. */
  clear(slot?: TimerSlot): void;
  /** At clock time `at`, the send's deadline passes: call `fire`. Re-arming an id replaces it. */
  armDeadline(id: string, at: number, fire: () => void): void;
  clearDeadline(id: string): void;
}

export class MachineTimer implements AccountTimer {
  private readonly slots = new Map<TimerSlot, () => void>();
  private readonly deadlines = new Map<string, () => void>();

  constructor(private readonly clock: Clock) {}

  arm(request: TimerRequest, fire: (firing: TimerFiring) => void): void {
    this.clear(request.slot);
    const armedAt = this.clock.now();
    const cancel = this.clock.after(request.ms, () => {
      this.slots.delete(request.slot);
      const at = this.clock.now();
      fire({ at, armedAt, lateMs: Math.max(0, at - armedAt - request.ms) });
    });
    this.slots.set(request.slot, cancel);
  }

  clear(slot?: TimerSlot): void {
    for (const [s, cancel] of this.slots) {
      if (slot !== undefined && s !== slot) continue;
      cancel();
      this.slots.delete(s);
    }
    if (slot === undefined) for (const id of [...this.deadlines.keys()]) this.clearDeadline(id);
  }

  armDeadline(id: string, at: number, fire: () => void): void {
    this.clearDeadline(id);
    const cancel = this.clock.after(
      at - this.clock.now(),
      () => {
        this.deadlines.delete(id);
        fire();
      },
      // A deadline days away must not keep a stopping process alive.
      { keepAlive: false },
    );
    this.deadlines.set(id, cancel);
  }

  clearDeadline(id: string): void {
    this.deadlines.get(id)?.();
    this.deadlines.delete(id);
  }
}
