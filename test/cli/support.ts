/**
 * CLI test support: a gateway started in-process with `startGateway` against a real
 * nats-server and the simulator, with provisioned accounts, for `wa-connd` commands
 * (`startCli`, test/support/gateway-child.ts) to talk to.
 */
import pino from 'pino';
import { configSchema } from '../../src/config/schema.js';
import { validateConfig } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/gateway/start.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { writeCredentials } from '../support/credentials.js';
import { tempDir } from '../support/temp-dir.js';

export type World = {
  nats: NatsServer;
  sim: RunningSimulator;
  gateway: RunningGateway;
  dataDir: string;
  /** Simulator phone of each provisioned account. */
  phones: Map<string, string>;
  /** Environment that points a CLI child at this world's NATS. */
  env: Record<string, string>;
  close(): Promise<void>;
};

/** nats-server + simulator + an in-process gateway running `accounts` (provisioned, so already paired). */
export async function startWorld(accounts: string[]): Promise<World> {
  const nats = await startNatsServer();
  const sim = await startSimulator();
  const dir = await tempDir('wa-connd-cli-');
  const phones = new Map<string, string>();
  for (const id of accounts) {
    const p = sim.provisionAccount({ preKeys: 10 });
    phones.set(id, p.account.phone);
    await writeCredentials(dir.path, id, p);
  }
  const raw: Record<string, unknown> = {
    dataDir: dir.path,
    log: { level: 'silent' },
    nats: { url: nats.url, startLocal: false },
    whatsapp: { url: sim.wsUrl, trustRootPublicKey: sim.rootPublicKey },
    accounts: accounts.map((id) => ({ id })),
  };
  if ('http' in configSchema.shape) raw.http = { port: 0 };
  const gateway = await startGateway(validateConfig(raw), pino({ level: 'silent' }));
  return {
    nats,
    sim,
    gateway,
    dataDir: dir.path,
    phones,
    env: { NATS_URL: nats.url },
    close: async () => {
      await gateway.close();
      await sim.close();
      await nats.stop();
      await dir.remove();
    },
  };
}
