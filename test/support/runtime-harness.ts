// Test support for the account runtime: the real Gateway and real Baileys against an
// in-process simulator, credentials in memory seeded from the simulator's provisioning,
// and a fact log that tests await with deadlines (never a sleep).
import pino from 'pino';
import type { AccountStateName, AccountTimings } from '../../machines/index.js';
import { trustServerRoot } from '../../src/baileys/trust.js';
import type { AccountAuth, AccountSettings } from '../../src/runtime/account-runtime.js';
import type { Clock } from '../../src/runtime/clock.js';
import { Gateway } from '../../src/runtime/gateway.js';
import { startLoopMonitor, type LoopMonitor } from '../../src/runtime/loop-monitor.js';
import type { Fact, FactOf } from '../../src/runtime/port.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { Waiters } from './waiters.js';
import type { AuthenticationCreds } from '@whiskeysockets/baileys';
import { fromBufferJson, memoryAuth } from './credentials.js';

/** Deadline for one awaited fact on loopback. */
export const FACT_DEADLINE_MS = 10_000;

/** Timings shrunk so scenarios run in seconds; the ratios match the defaults. */
export const FAST_TIMINGS: Partial<AccountTimings> = {
  idleAfterMs: 300,
  probeJitterMs: 20,
  pingTimeoutMs: 400,
  connectTimeoutMs: 5_000,
  drainTimeoutMs: 500,
  ackTimeoutMs: 2_000,
  backoffBaseMs: 50,
  backoffCapMs: 1_000,
  stableAfterMs: 5_000,
  stallThresholdMs: 200,
};

export class FactLog {
  readonly facts: Fact[] = [];
  private readonly waiters = new Waiters();

  readonly sink = (fact: Fact): void => {
    this.facts.push(fact);
    this.waiters.poke();
  };

  of<T extends Fact['type']>(type: T, account?: string): FactOf<T>[] {
    return this.facts.filter(
      (f): f is FactOf<T> => f.type === type && (account === undefined || f.account === account),
    );
  }

  transitions(
    account?: string,
  ): { from: AccountStateName; to: AccountStateName; reason?: string; statusCode?: number }[] {
    return this.of('transition', account).map(({ from, to, reason, statusCode }) => ({
      from,
      to,
      ...(reason ? { reason } : {}),
      ...(statusCode !== undefined ? { statusCode } : {}),
    }));
  }

  /**
   * Resolves with the first value `probe` returns that is not undefined, checked on every
   * fact (and every `pollMs` when given, for state outside the fact log).
   */
  until<T>(what: string, probe: () => T | undefined, deadlineMs = FACT_DEADLINE_MS, pollMs?: number): Promise<T> {
    return this.waiters.until(what, probe, deadlineMs, pollMs);
  }

  /** Waits until `account` has entered `state` at least `times` times in all. */
  entered(account: string, state: AccountStateName, times = 1, deadlineMs = FACT_DEADLINE_MS): Promise<void> {
    return this.until(
      `${account} entering ${state} ×${times}`,
      () => (this.transitions(account).filter((t) => t.to === state).length >= times ? true : undefined),
      deadlineMs,
    ).then(() => undefined);
  }
}

/** In-memory credentials implementing the runtime's AccountAuth. */
export function memoryAccountAuth(
  creds?: AuthenticationCreds,
  keys?: Record<string, Record<string, unknown>>,
): AccountAuth & { cleared: number } {
  const mem = memoryAuth(creds, keys);
  const auth = {
    state: { creds: mem.creds, keys: mem.keys },
    cleared: 0,
    saveCreds: async () => {},
    clear: async () => {
      auth.cleared += 1;
      mem.data.clear();
      const { initAuthCreds } = await import('@whiskeysockets/baileys');
      Object.assign(auth.state, { creds: initAuthCreds() });
    },
    close: async () => {},
  };
  return auth;
}

export interface Harness {
  sim: RunningSimulator;
  gateway: Gateway;
  facts: FactLog;
  loop: LoopMonitor;
  /** Provision a device at the simulator and add it to the gateway as `account`. */
  addAccount(
    account: string,
    settings?: AccountSettings & { connect?: boolean },
  ): Promise<{ phone: string; jid: string }>;
  close(): Promise<void>;
}

const quiet = pino({ level: 'silent' });

/** `clock`: the accounts' time (machine timers, send deadlines); real time by default. */
export async function startHarness(
  simOptions: SimulatorOptions = {},
  defaults: AccountSettings = {},
  clock?: Clock,
): Promise<Harness> {
  const sim = await startSimulator(simOptions);
  trustServerRoot(sim.rootPublicKey, quiet);
  const facts = new FactLog();
  const loop = startLoopMonitor();
  const auths = new Map<string, AccountAuth>();
  const gateway = new Gateway({
    sink: facts.sink,
    logger: quiet,
    loop,
    waWebSocketUrl: sim.wsUrl,
    defaults: { timings: FAST_TIMINGS, keepalive: 'ping', ...defaults },
    authFor: async (account) => auths.get(account) ?? memoryAccountAuth(),
    ...(clock ? { clock } : {}),
  });
  return {
    sim,
    gateway,
    facts,
    loop,
    addAccount: async (account, settings = {}) => {
      const p = sim.provisionAccount();
      auths.set(account, memoryAccountAuth(fromBufferJson(p.creds), fromBufferJson(p.keys)));
      await gateway.add(account, settings);
      return { phone: p.account.phone, jid: p.account.jid };
    },
    close: async () => {
      await gateway.close();
      loop.stop();
      await sim.close();
    },
  };
}
