import type { AccountStateName } from './states.js';
import { DEFAULT_TIMINGS, type AccountTimings } from './timings.js';

/** Where a drain ends once the old connection is settled. */
export type DrainNext = 'stop' | 'reconnectNow';

export interface AccountInput {
  account: string;
  /** Seeds the jitter PRNG: random in production, fixed in tests. */
  seed: number;
  timings?: Partial<AccountTimings>;
  /**
   * false (default): probe on a fixed cadence, like WhatsApp Web and whatsmeow — inbound
   * traffic proves the link is alive but does not postpone the next probe, because the
   * server's idle timer may count only what the client sends (field report).
   * true: probe only after `idleAfterMs` of inbound silence.
   */
  inboundResetsIdle?: boolean;
}

export interface AccountContext {
  account: string;
  timings: AccountTimings;
  inboundResetsIdle: boolean;
  /** PRNG state (random.ts). */
  rng: number;
  /** The state last entered; the `from` of the next transition record. */
  state: AccountStateName;
  /** Incremented per socket; facts from older sockets are ignored. */
  connectionId: number;
  /** Incremented per armed timer; firings of older timers are ignored. */
  timerToken: number;
  /** Incremented per armed ack deadline; firings of older ones are ignored. */
  ackToken: number;
  /** The send whose ack the armed deadline waits for: the oldest in flight while online. */
  ackFor: string | null;
  /** Incremented per keepalive probe. */
  probeId: number;
  /** Consecutive failed attempts, for the backoff ceiling. */
  attempt: number;
  backoffMs: number;
  jitterMs: number;
  stallRetries: number;
  openedAt: number | null;
  /** Held sends, in arrival order; dispatched in this order on open. */
  outbox: string[];
  /** Dispatched on the current connection, not yet acknowledged, in dispatch order. */
  inFlight: string[];
  drain: { next: DrainNext; closeRequested: boolean } | null;
  pairPhone: string | null;
  /** A 402 ban's wait, taken by the next backoff instead of a jittered delay. */
  banWaitMs: number | null;
}

export function initialContext(input: AccountInput): AccountContext {
  return {
    account: input.account,
    timings: { ...DEFAULT_TIMINGS, ...input.timings },
    inboundResetsIdle: input.inboundResetsIdle ?? false,
    rng: input.seed >>> 0,
    state: 'stopped',
    connectionId: 0,
    timerToken: 0,
    ackToken: 0,
    ackFor: null,
    probeId: 0,
    attempt: 0,
    backoffMs: 0,
    jitterMs: 0,
    stallRetries: 0,
    openedAt: null,
    outbox: [],
    inFlight: [],
    drain: null,
    pairPhone: null,
    banWaitMs: null,
  };
}
