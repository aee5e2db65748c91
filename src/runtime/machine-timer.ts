/**
 * The account machine's timers, one per slot (machines/account/timers.ts). Arming
 * replaces whatever was armed in that slot (the machine arms on state entry and disarms
 * on exit); the firing reports how late it came, which is how a blocked event loop
 * shows itself.
 */
import type { TimerRequest, TimerSlot } from '../../machines/index.js';

export interface TimerFiring {
  at: number;
  armedAt: number;
  lateMs: number;
}

/** What the runtime needs of its timers; tests substitute ones they fire by hand. */
export interface AccountTimer {
  arm(request: TimerRequest, fire: (firing: TimerFiring) => void): void;
  /** Clear one slot, or every slot. */
  clear(slot?: TimerSlot): void;
}

export class MachineTimer implements AccountTimer {
  private readonly handles = new Map<TimerSlot, NodeJS.Timeout>();

  constructor(private readonly now: () => number) {}

  arm(request: TimerRequest, fire: (firing: TimerFiring) => void): void {
    this.clear(request.slot);
    const armedAt = this.now();
    this.handles.set(
      request.slot,
      setTimeout(() => {
        this.handles.delete(request.slot);
        const at = this.now();
        fire({ at, armedAt, lateMs: Math.max(0, at - armedAt - request.ms) });
      }, request.ms),
    );
  }

  clear(slot?: TimerSlot): void {
    for (const [s, handle] of this.handles) {
      if (slot !== undefined && s !== slot) continue;
      clearTimeout(handle);
      this.handles.delete(s);
    }
  }
}
