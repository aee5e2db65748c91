// A whole gateway in-process (`startGateway`, the composition root `npm start` uses)
// against a real nats-server and the in-process simulator, with its HTTP server on a
// free port and credentials provisioned at the simulator. Conditions are awaited with
// deadlines, never slept on.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import pino from 'pino';
import type { AccountStateName, AccountTimings } from '../../machines/index.js';
import { validateConfig } from '../../src/config/load.js';
import type { KeepaliveStrategy } from '../../src/contract/index.js';
import { startGateway, type RunningGateway } from '../../src/gateway/start.js';
import type { Fact } from '../../src/runtime/port.js';
import { startSimulator, type ProvisionedAccount, type RunningSimulator } from '../../src/simulator/index.js';
import { writeCredentials } from './gateway-child.js';
import { FAST_TIMINGS } from './runtime-harness.js';
import { startNatsServer, type NatsServer } from './nats-server.js';

/** Deadline for one awaited condition on loopback (a reconnect, a scrape, a page update). */
export const DEADLINE_MS = 15_000;
/** How often `until` re-checks a condition that lives in another process (HTTP, browser). */
const POLL_MS = 25;

export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, deadlineMs = DEADLINE_MS): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export interface Scenario {
  nats: NatsServer;
  sim: RunningSimulator;
  running: RunningGateway;
  url: string;
  account: string;
  provisioned: ProvisionedAccount;
  facts: Fact[];
  /** Resolves once `account` has entered `state` `times` times (counted over all facts). */
  entered(state: AccountStateName, times?: number): Promise<void>;
  transitions(): { from: string; to: string }[];
  close(): Promise<void>;
}

export interface ScenarioOptions {
  token?: string;
  logger?: Logger;
  baileysLogger?: Logger;
  account?: string;
  /** Keep the data dir's credentials unprovisioned (the account pairs). */
  unpaired?: boolean;
  /** Instead of pings: what the account's keepalive sends. */
  keepalive?: KeepaliveStrategy;
  /** Over FAST_TIMINGS. */
  timings?: Partial<AccountTimings>;
}

export async function startScenario(options: ScenarioOptions = {}): Promise<Scenario> {
  const account = options.account ?? 'acct';
  const nats = await startNatsServer();
  const sim = await startSimulator();
  const dir = await mkdtemp(join(tmpdir(), 'wa-connd-http-'));
  const provisioned = sim.provisionAccount();
  if (!options.unpaired) await writeCredentials(dir, account, provisioned);
  const config = validateConfig({
    dataDir: dir,
    log: { level: 'silent' },
    nats: { url: nats.url, startLocal: false },
    whatsapp: { url: sim.wsUrl, trustRootPublicKey: sim.rootPublicKey },
    // Pings only: a presence probe would count as traffic the simulator answers differently.
    defaults: { keepalive: options.keepalive ?? 'ping', timings: { ...FAST_TIMINGS, ...options.timings } },
    http: { port: 0, ...(options.token ? { token: options.token } : {}) },
    accounts: [{ id: account }],
  });
  const logger = options.logger ?? pino({ level: 'silent' });
  const facts: Fact[] = [];
  const waiters = new Set<() => void>();
  let running: RunningGateway;
  try {
    running = await startGateway(config, logger, options.baileysLogger ? { baileysLogger: options.baileysLogger } : {});
  } catch (err) {
    await sim.close();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  running.onFact((f) => {
    facts.push(f);
    for (const w of [...waiters]) w();
  });
  const transitions = () => facts.flatMap((f) => (f.type === 'transition' && f.account === account ? [{ from: f.from, to: f.to }] : []));
  // Facts before onFact was attached are not in `facts`: count the runtime's state too.
  const entered = (state: AccountStateName, times = 1) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        const n = transitions().filter((t) => t.to === state).length;
        if (n >= times || (times === 1 && running.gateway.state(account) === state)) {
          done();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${account} to enter ${state} ×${times}; transitions: ${JSON.stringify(transitions())}`));
      }, DEADLINE_MS);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return {
    nats,
    sim,
    running,
    url: running.http.url,
    account,
    provisioned,
    facts,
    entered,
    transitions,
    close: async () => {
      await running.close();
      await sim.close();
      await nats.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function get(url: string, token?: string): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, text: await res.text(), headers: res.headers };
}
