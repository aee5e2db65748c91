// A whole gateway in-process (`startGateway`, the composition root `npm start` uses)
// against a real nats-server and the in-process simulator, with its HTTP server on a
// free port and credentials provisioned at the simulator. Conditions are awaited with
// deadlines, never slept on.
import type { Logger } from 'pino';
import pino from 'pino';
import type { AccountStateName, AccountTimings } from '../../machines/index.js';
import { validateConfig } from '../../src/config/load.js';
import type { KeepaliveStrategy } from '../../src/contract/index.js';
import { startGateway, type RunningGateway } from '../../src/gateway/start.js';
import type { Fact } from '../../src/runtime/port.js';
import { startSimulator, type ProvisionedAccount, type RunningSimulator } from '../../src/simulator/index.js';
import { writeCredentials } from './credentials.js';
import { startNatsServer, type NatsServer } from './nats-server.js';
import { FAST_TIMINGS } from './runtime-harness.js';
import { tempDir } from './temp-dir.js';
import { Waiters } from './waiters.js';

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
  /** The config's `webhooks` section (validated like the rest). */
  webhooks?: Record<string, unknown>;
  /** The config's `media` section (WA_MEDIA limits, URL fetching). */
  media?: Record<string, unknown>;
}

export async function startScenario(options: ScenarioOptions = {}): Promise<Scenario> {
  const account = options.account ?? 'acct';
  const nats = await startNatsServer();
  const sim = await startSimulator();
  const dir = await tempDir('wa-connd-http-');
  const provisioned = sim.provisionAccount();
  if (!options.unpaired) await writeCredentials(dir.path, account, provisioned);
  const config = validateConfig({
    dataDir: dir.path,
    log: { level: 'silent' },
    nats: { url: nats.url, startLocal: false },
    whatsapp: { url: sim.wsUrl, trustRootPublicKey: sim.rootPublicKey },
    // Pings only: a presence probe would count as traffic the simulator answers differently.
    defaults: { keepalive: options.keepalive ?? 'ping', timings: { ...FAST_TIMINGS, ...options.timings } },
    http: { port: 0, ...(options.token ? { token: options.token } : {}) },
    accounts: [{ id: account }],
    ...(options.webhooks ? { webhooks: options.webhooks } : {}),
    ...(options.media ? { media: options.media } : {}),
  });
  const logger = options.logger ?? pino({ level: 'silent' });
  const facts: Fact[] = [];
  const waiters = new Waiters();
  let running: RunningGateway;
  try {
    running = await startGateway(config, logger, options.baileysLogger ? { baileysLogger: options.baileysLogger } : {});
  } catch (err) {
    await sim.close();
    await nats.stop();
    await dir.remove();
    throw err;
  }
  running.onFact((f) => {
    facts.push(f);
    waiters.poke();
  });
  const transitions = () =>
    facts.flatMap((f) => (f.type === 'transition' && f.account === account ? [{ from: f.from, to: f.to }] : []));
  // Facts before onFact was attached are not in `facts`: count the runtime's state too.
  const entered = (state: AccountStateName, times = 1): Promise<void> =>
    waiters
      .until(
        () => `${account} to enter ${state} ×${times}; transitions: ${JSON.stringify(transitions())}`,
        () =>
          transitions().filter((t) => t.to === state).length >= times ||
          (times === 1 && running.gateway.state(account) === state),
      )
      .then(() => undefined);
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
      await dir.remove();
    },
  };
}

export async function get(url: string, token?: string): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, text: await res.text(), headers: res.headers };
}
