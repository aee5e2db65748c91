/**
 * How a CLI command reaches the gateway: the same config file and environment as the
 * gateway itself (so `--config` works for both), a NATS connection from them, and the
 * typed client on top — exactly what a user's program would do.
 */
import { connectWaClient, type WaClient } from '../client/index.js';
import { natsConnectionOptions } from '../bootstrap/nats.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { parseDuration } from './duration.js';
import { UsageError } from './errors.js';

export type GlobalOptions = { config?: string; nats?: string; timeout?: string };

export function loadCliConfig(g: GlobalOptions): Config {
  const env = { ...process.env, ...(g.nats !== undefined ? { NATS_URL: g.nats } : {}) };
  return loadConfig({ env, ...(g.config !== undefined ? { file: g.config } : {}) });
}

export async function openClient(g: GlobalOptions): Promise<WaClient> {
  const config = loadCliConfig(g);
  const timeoutMs = g.timeout === undefined ? undefined : parseDuration(g.timeout);
  if (timeoutMs === null || timeoutMs === 0)
    throw new UsageError(`--timeout: got ${JSON.stringify(g.timeout)}; a duration such as 500ms, 10s or 1m`);
  const { servers, ...connectOptions } = natsConnectionOptions(config);
  return connectWaClient({
    servers: servers ?? config.nats.url,
    connectOptions: { ...connectOptions, name: 'wa-connd-cli' },
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  });
}
