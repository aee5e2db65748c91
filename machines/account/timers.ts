import type { AccountContext } from './context.js';
import type { TimerEvent } from './events.js';

/**
 * The machine's timers. Each state that needs one arms it on entry and disarms it on
 * exit, so leaving a state cancels its timer; one timer is armed at a time, and its
 * token makes a late firing from an older timer harmless.
 */
export const TIMERS = {
  connect: { fires: 'ConnectTimedOut', ms: (c: AccountContext) => c.timings.connectTimeoutMs },
  idle: { fires: 'IdleElapsed', ms: (c: AccountContext) => c.timings.idleAfterMs },
  probeJitter: { fires: 'ProbeDue', ms: (c: AccountContext) => c.jitterMs },
  probe: { fires: 'ProbeTimedOut', ms: (c: AccountContext) => c.timings.pingTimeoutMs },
  backoff: { fires: 'BackoffElapsed', ms: (c: AccountContext) => c.backoffMs },
  drain: { fires: 'DrainTimedOut', ms: (c: AccountContext) => c.timings.drainTimeoutMs },
} as const satisfies Record<string, { fires: TimerEvent['type']; ms: (c: AccountContext) => number }>;

export type TimerName = keyof typeof TIMERS;

/** What the runtime is asked to do: after `ms`, send `{ type: fires, token }`. */
export interface TimerRequest {
  name: TimerName;
  fires: TimerEvent['type'];
  ms: number;
  token: number;
}
