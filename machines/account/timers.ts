import type { AccountContext } from './context.js';
import type { TimerEvent } from './events.js';

/**
 * Where a timer runs. `state`: each state that needs one arms it on entry and disarms it
 * on exit, so leaving a state cancels its timer; one is armed at a time. `ack`: the ack
 * deadline of the oldest send in flight, which runs beside the keepalive's timers while
 * online. In each slot a token makes a late firing from an older timer harmless.
 */
export type TimerSlot = 'state' | 'ack';

export const TIMERS = {
  connect: { slot: 'state', fires: 'ConnectTimedOut', ms: (c: AccountContext) => c.timings.connectTimeoutMs },
  idle: { slot: 'state', fires: 'IdleElapsed', ms: (c: AccountContext) => c.timings.idleAfterMs },
  probeJitter: { slot: 'state', fires: 'ProbeDue', ms: (c: AccountContext) => c.jitterMs },
  probe: { slot: 'state', fires: 'ProbeTimedOut', ms: (c: AccountContext) => c.timings.pingTimeoutMs },
  backoff: { slot: 'state', fires: 'BackoffElapsed', ms: (c: AccountContext) => c.backoffMs },
  drain: { slot: 'state', fires: 'DrainTimedOut', ms: (c: AccountContext) => c.timings.drainTimeoutMs },
  ack: { slot: 'ack', fires: 'AckTimedOut', ms: (c: AccountContext) => c.timings.ackTimeoutMs },
} as const satisfies Record<string, { slot: TimerSlot; fires: TimerEvent['type']; ms: (c: AccountContext) => number }>;

export type TimerName = keyof typeof TIMERS;
/** The timers of the `state` slot. */
export type StateTimerName = { [K in TimerName]: (typeof TIMERS)[K]['slot'] extends 'state' ? K : never }[TimerName];

/** What the runtime is asked to do: after `ms`, send `{ type: fires, token }`; arming replaces the slot's timer. */
export interface TimerRequest {
  name: TimerName;
  slot: TimerSlot;
  fires: TimerEvent['type'];
  ms: number;
  token: number;
}
