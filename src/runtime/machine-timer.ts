/**
 * The account machine's one timer. Arming replaces whatever was armed (the machine arms
 * on state entry and disarms on exit); the firing reports how late it came, which is
 * how a blocked event loop shows itself.
 */
import type { TimerRequest } from '../../machines/index.js';

export interface TimerFiring {
  at: number;
  armedAt: number;
  lateMs: number;
}

/** What the runtime needs of a timer; tests substitute one they fire by hand. */
export interface AccountTimer {
  arm(request: TimerRequest, fire: (firing: TimerFiring) => void): void;
  clear(): void;
}

export class MachineTimer implements AccountTimer {
  private handle: NodeJS.Timeout | null = null;

  constructor(private readonly now: () => number) {}

  arm(request: TimerRequest, fire: (firing: TimerFiring) => void): void {
    this.clear();
    const armedAt = this.now();
    this.handle = setTimeout(() => {
      this.handle = null;
      const at = this.now();
      fire({ at, armedAt, lateMs: Math.max(0, at - armedAt - request.ms) });
    }, request.ms);
  }

  clear(): void {
    if (this.handle) clearTimeout(this.handle);
    this.handle = null;
  }
}
