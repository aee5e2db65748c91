/**
 * A chaos run's schedule, derived from its seed alone: the sends (who, to whom, what,
 * when, with which deadline), the simulator faults, the gateway kills and the NATS
 * restarts. Same seed, same schedule (what the processes then do with it is up to the
 * machine's timing). Each list is a registry: a new message kind, fault or kill point is
 * one entry here plus its executor in faults.ts / run.ts.
 */
import { EVENT_TYPES } from '../../../src/contract/index.js';
import { prng } from '../random.js';

export type ChaosScale = {
  /** Sends over the whole run. */
  sends: number;
  accounts: number;
  /**
   * Accounts per gateway process. One process for all today: before leases every gateway
   * serves `wa.cmd.>` in one queue group, so a second process with other accounts answers
   * `unknown_account` to half of the commands (seen in the first chaos run).
   */
  accountsPerGateway: number;
  chatsPerAccount: number;
  /** Concurrent clients per account, each retrying its own send until it is answered. */
  clientsPerAccount: number;
  faults: number;
  kills: number;
  natsRestarts: number;
  /** Sends, faults, kills and restarts spread over this long (wall time). */
  durationMs: number;
  /** Share of sends with a deadline (a few seconds after their first attempt). */
  deadlineShare: number;
};

export const FULL_SCALE: ChaosScale = {
  sends: 10_000,
  accounts: 8,
  accountsPerGateway: 8,
  chatsPerAccount: 6,
  clientsPerAccount: 4,
  faults: 240,
  kills: 24,
  natsRestarts: 6,
  durationMs: 240_000,
  deadlineShare: 0.05,
};

export const SMALL_SCALE: ChaosScale = {
  sends: 300,
  accounts: 2,
  accountsPerGateway: 2,
  chatsPerAccount: 3,
  clientsPerAccount: 3,
  faults: 8,
  kills: 2,
  natsRestarts: 1,
  durationMs: 25_000,
  deadlineShare: 0.05,
};

/** Message kinds the run sends. Wave 2 adds media, group and reply generators here. */
export const SEND_KINDS = ['text'] as const;
export type SendKind = (typeof SEND_KINDS)[number];

export type PlannedRequest = {
  n: number;
  account: string;
  /** Client-chosen id: retried unchanged on `unavailable` or a timeout. */
  id: string;
  /** E.164 with +, as a client gives it. */
  to: string;
  /** The ledger's chat jid. */
  chat: string;
  kind: SendKind;
  /** Unique marker text: found in a log, it is message text that leaked. */
  text: string;
  /** Not before this offset from the run's start. */
  atMs: number;
  /** Deadline this long after the first attempt, or none. */
  deadlineAfterMs: number | undefined;
};

/** Every kind of fault the simulator has (src/simulator/faults/faults.ts, docs/simulator.md). */
export const FAULT_KINDS = [
  'stream-error-408',
  'stream-error-500',
  'stream-error-503',
  'stream-error-515',
  'stream-error-411',
  'conflict',
  'failure-403',
  'close',
  'destroy',
  'freeze',
  'silence',
  'ack-latency',
  'ping-latency',
  'reject-sends',
  'login-failure',
  'reject-uploads',
  'idle-timeout',
  'recycle',
  'receipts',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type PlannedFault = {
  atMs: number;
  kind: FaultKind;
  account: string;
  /** How long a condition stays set (actions ignore it). */
  holdMs: number;
  /** A number the kind may use (a latency, a period, a receipt delay). */
  param: number;
};

/**
 * Where a kill hits: a running gateway; one still starting (before it answers); one
 * replaying a backlog (killed on its first `send.sent` after a restart that found held
 * sends). Leases add `handoff`.
 */
export const KILL_POINTS = ['replay', 'startup', 'running'] as const;
export type KillPoint = (typeof KILL_POINTS)[number];
export type PlannedKill = { atMs: number; gateway: number; point: KillPoint; delayMs: number };

/** `restart`: SIGTERM and start; `crash`: SIGKILL and start; `startup`: restart while a gateway starts. */
export const RESTART_KINDS = ['restart', 'startup', 'crash'] as const;
export type PlannedRestart = { atMs: number; kind: (typeof RESTART_KINDS)[number]; gateway: number };

export type ChaosPlan = {
  seed: number;
  scale: ChaosScale;
  accounts: string[];
  /** Index of the gateway process running each account. */
  gatewayOf: Map<string, number>;
  gateways: number;
  sends: PlannedRequest[];
  faults: PlannedFault[];
  kills: PlannedKill[];
  restarts: PlannedRestart[];
};

/** Text marker prefix; a run's markers are `MRK<seed>x<n>y<random>`. */
export const MARKER_PREFIX = 'MRK';
export const markerPattern = (seed: number) => new RegExp(`${MARKER_PREFIX}${seed}x\\d+y`);

export function makePlan(seed: number, scale: ChaosScale): ChaosPlan {
  const rand = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const accounts = Array.from({ length: scale.accounts }, (_, i) => `chaos${i}`);
  const gatewayOf = new Map(accounts.map((a, i) => [a, Math.floor(i / scale.accountsPerGateway)]));
  const gateways = Math.ceil(scale.accounts / scale.accountsPerGateway);
  // Sends end at 80% of the run, so the last faults and kills hit a gateway with work.
  const sendSpan = scale.durationMs * 0.8;
  const sends: PlannedRequest[] = Array.from({ length: scale.sends }, (_, n) => {
    const a = int(0, scale.accounts - 1);
    const c = int(0, scale.chatsPerAccount - 1);
    const phone = `4915${String(a).padStart(3, '0')}${String(c).padStart(5, '0')}`;
    return {
      n,
      account: accounts[a] as string,
      id: `s${seed}-${n}`,
      to: `+${phone}`,
      chat: `${phone}@s.whatsapp.net`,
      kind: pick(SEND_KINDS),
      text: `${MARKER_PREFIX}${seed}x${n}y${int(0, 1e9)}`,
      atMs: Math.floor((n / scale.sends) * sendSpan),
      deadlineAfterMs: rand() < scale.deadlineShare ? int(500, 6_000) : undefined,
    };
  });
  // Faults: every kind at least once (round-robin from a seeded start), then at random.
  const offset = int(0, FAULT_KINDS.length - 1);
  const faults: PlannedFault[] = Array.from({ length: scale.faults }, (_, i) => ({
    atMs: Math.floor(((i + rand()) / scale.faults) * scale.durationMs * 0.85),
    kind:
      i < FAULT_KINDS.length
        ? (FAULT_KINDS[(i + offset) % FAULT_KINDS.length] as FaultKind)
        : (pick(FAULT_KINDS) as FaultKind),
    account: pick(accounts),
    holdMs: int(300, 3_000),
    param: int(50, 1_500),
  })).sort((x, y) => x.atMs - y.atMs);
  const kills: PlannedKill[] = Array.from({ length: scale.kills }, (_, i) => ({
    atMs: Math.floor(((i + 0.2 + rand() * 0.6) / scale.kills) * scale.durationMs * 0.85),
    gateway: int(0, gateways - 1),
    point: KILL_POINTS[i % KILL_POINTS.length] as KillPoint,
    delayMs: int(50, 1_500),
  }));
  const restarts: PlannedRestart[] = Array.from({ length: scale.natsRestarts }, (_, i) => ({
    atMs: Math.floor(((i + 0.3 + rand() * 0.4) / scale.natsRestarts) * scale.durationMs * 0.85),
    kind: RESTART_KINDS[i % RESTART_KINDS.length] as (typeof RESTART_KINDS)[number],
    gateway: int(0, gateways - 1),
  }));
  return { seed, scale, accounts, gatewayOf, gateways, sends, faults, kills, restarts };
}

/** Machine timings of the run's gateways: short, so faults are noticed and healed many times over. */
export const CHAOS_TIMINGS = {
  idleAfterMs: 1_000,
  probeJitterMs: 100,
  pingTimeoutMs: 1_500,
  connectTimeoutMs: 10_000,
  drainTimeoutMs: 1_000,
  ackTimeoutMs: 4_000,
  backoffBaseMs: 100,
  backoffCapMs: 2_000,
  stableAfterMs: 5_000,
  stallThresholdMs: 500,
};
/** Webhook types delivered: everything but the keepalive chatter and dead letters. */
export const WEBHOOK_TYPES = EVENT_TYPES.filter((t) => t !== 'keepalive' && t !== 'webhook.dead_lettered');
