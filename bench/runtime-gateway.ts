// The real Gateway for the runtime benchmarks, pointed at a simulator process, with a fact sink
// that stamps each fact with its arrival time (performance.now()) and lets the bench await
// facts with a deadline. Credentials live in the production auth store (src/baileys/auth-store.ts)
// on a temp dir, seeded from the simulator's provisioning.
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { openAuthStore } from '../src/baileys/auth-store.js';
import { trustServerRoot } from '../src/baileys/trust.js';
import { writeCredentials } from '../test/support/credentials.js';
import { Waiters } from '../test/support/waiters.js';
import type { AccountSettings } from '../src/runtime/account-runtime.js';
import { Gateway } from '../src/runtime/gateway.js';
import { startLoopMonitor } from '../src/runtime/loop-monitor.js';
import type { Fact, FactOf } from '../src/runtime/port.js';
import type { Provisioned } from './sim-process.js';

/** Deadline for one awaited fact: far above any recovery we expect, low enough to fail a stuck run. */
export const FACT_DEADLINE_MS = 30_000;

export interface Timed<F> {
  fact: F;
  /** performance.now() when the sink received it. */
  t: number;
}

export class TimedFacts {
  readonly all: Timed<Fact>[] = [];
  private readonly waiters = new Waiters();

  readonly sink = (fact: Fact): void => {
    this.all.push({ fact, t: performance.now() });
    this.waiters.poke();
  };

  /** Facts of `type` for `account` that arrived at index `from` or later. */
  of<T extends Fact['type']>(type: T, account: string, from = 0): Timed<FactOf<T>>[] {
    const out: Timed<FactOf<T>>[] = [];
    for (let i = from; i < this.all.length; i++) {
      const e = this.all[i]!;
      if (e.fact.type === type && e.fact.account === account) out.push(e as Timed<FactOf<T>>);
    }
    return out;
  }

  /** Resolves with the first value `probe` returns that is not undefined, checked on every fact. */
  until<T>(what: string, probe: () => T | undefined, deadlineMs = FACT_DEADLINE_MS): Promise<T> {
    return this.waiters.until(what, probe, deadlineMs);
  }

  /** First `transition` of `account` at index `from` or later that `match` accepts, with its index. */
  nextTransition(
    account: string,
    from: number,
    what: string,
    match: (f: FactOf<'transition'>) => boolean,
  ): Promise<Timed<FactOf<'transition'>> & { index: number }> {
    return this.until(`${account}: ${what}`, () => this.find(account, from, 'transition', match));
  }

  /** First fact of `type` of `account` at index `from` or later that `match` accepts. */
  find<T extends Fact['type']>(
    account: string,
    from: number,
    type: T,
    match: (f: FactOf<T>) => boolean = () => true,
  ): (Timed<FactOf<T>> & { index: number }) | undefined {
    for (let i = from; i < this.all.length; i++) {
      const e = this.all[i]!;
      if (e.fact.type === type && e.fact.account === account && match(e.fact as FactOf<T>))
        return { fact: e.fact as FactOf<T>, t: e.t, index: i };
    }
    return undefined;
  }
}

export interface TimedGateway {
  gateway: Gateway;
  facts: TimedFacts;
  /** Seed the account's credentials on disk and add it to the gateway (it connects). */
  add(account: string, provisioned: Provisioned, settings?: AccountSettings): Promise<void>;
  close(): Promise<void>;
}

const quiet = pino({ level: 'silent' });

/**
 * `sink` replaces the recording one (then `facts` stays empty): a long run cannot keep every
 * fact, or the bench's own memory would be what grows.
 */
export async function startTimedGateway(
  sim: { ws: string; rootPublicKey: string },
  defaults: AccountSettings,
  sink?: (fact: Fact) => void,
): Promise<TimedGateway> {
  trustServerRoot(sim.rootPublicKey, quiet);
  // tmpfs when there is one: the store fsyncs every write, and disk latency is not what we measure.
  const dataDir = await mkdtemp(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'wa-connd-bench-'));
  const facts = new TimedFacts();
  const loop = startLoopMonitor();
  const gateway = new Gateway({
    sink: sink ?? facts.sink,
    logger: quiet,
    loop,
    waWebSocketUrl: sim.ws,
    defaults,
    authFor: (account) => openAuthStore(dataDir, account),
  });
  return {
    gateway,
    facts,
    add: async (account, p, settings = {}) => {
      await writeCredentials(dataDir, account, p);
      await gateway.add(account, settings);
    },
    close: async () => {
      await gateway.close();
      loop.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Silences console.* (libsignal prints session dumps with keys through it); returns the undo. */
export function muteConsole(): () => void {
  const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
  const saved = methods.map((m) => [m, console[m]] as const);
  for (const m of methods) console[m] = () => undefined;
  return () => {
    for (const [m, fn] of saved) console[m] = fn;
  };
}
