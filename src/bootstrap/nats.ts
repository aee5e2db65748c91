/**
 * Finds the NATS the gateway talks to: the one at `nats.url`, or — on a fresh machine,
 * when nothing answers on localhost and a nats-server binary is installed — one started
 * here with JetStream and its data under the gateway's data directory. When neither is
 * possible it says exactly what to install or set.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';

/** How long one connection attempt may take before we decide nothing answers. */
const PROBE_TIMEOUT_MS = 2_000;
/** How long a locally started nats-server gets to accept connections. */
const LOCAL_START_DEADLINE_MS = 10_000;
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export class NatsUnavailableError extends Error {
  override readonly name = 'NatsUnavailableError';
}

export interface NatsHandle {
  nc: NatsConnection;
  /** The nats-server this process started, if it did. */
  local: ChildProcess | null;
  close(): Promise<void>;
}

export function findNatsServer(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = [
    env.NATS_SERVER_BIN,
    ...(env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'nats-server')),
    '/usr/sbin/nats-server',
  ];
  for (const c of candidates) {
    if (!c) continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* not here */
    }
  }
  return null;
}

export function natsConnectionOptions(config: Config): ConnectionOptions {
  const n = config.nats;
  return {
    // A comma-separated list names the nodes of a cluster (docs/scaling.md): the client fails over between them.
    servers: n.url.split(',').map((u) => u.trim()),
    name: 'wa-connd',
    maxReconnectAttempts: -1,
    ...(n.user ? { user: n.user, pass: n.pass ?? '' } : {}),
    ...(n.token ? { token: n.token } : {}),
    ...(n.credsFile ? { authenticator: credsAuthenticator(readFileSync(n.credsFile)) } : {}),
    ...(n.tls
      ? {
          tls: {
            ...(n.tls.ca ? { caFile: n.tls.ca } : {}),
            ...(n.tls.cert ? { certFile: n.tls.cert } : {}),
            ...(n.tls.key ? { keyFile: n.tls.key } : {}),
          },
        }
      : {}),
  };
}

export async function ensureNats(config: Config, logger: Logger): Promise<NatsHandle> {
  const options = natsConnectionOptions(config);
  const first = await tryConnect(options);
  if (first) return { nc: first, local: null, close: () => first.close() };

  const url = new URL(config.nats.url.split(',')[0]!.trim());
  const binary = findNatsServer();
  if (!config.nats.startLocal || !LOCAL_HOSTS.has(url.hostname) || !binary) {
    throw new NatsUnavailableError(
      [
        `No NATS server answers at ${config.nats.url}.`,
        LOCAL_HOSTS.has(url.hostname)
          ? binary
            ? 'Starting a local one is turned off (nats.startLocal: false).'
            : 'No nats-server binary is installed either, so none could be started here.'
          : 'It is not on this machine, so none is started here.',
        'Fix one of these:',
        '  - install NATS with JetStream: apt-get install nats-server (Debian/Ubuntu), or see https://docs.nats.io/running-a-nats-service/introduction/installation',
        '  - or run it in Docker: docker compose up -d nats',
        '  - or point NATS_URL (or nats.url in the config file) at a running server with JetStream enabled (-js)',
      ].join('\n'),
    );
  }

  const storeDir = path.resolve(config.dataDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const port = url.port || '4222';
  const child = spawn(binary, ['-a', url.hostname.replace(/^\[|\]$/g, ''), '-p', port, '-js', '-sd', storeDir], {
    stdio: 'ignore',
  });
  logger.warn(
    { binary, url: config.nats.url, storeDir, pid: child.pid },
    'no NATS answered: started a local nats-server with JetStream (it stops with the gateway)',
  );
  const until = Date.now() + LOCAL_START_DEADLINE_MS;
  while (Date.now() < until) {
    if (child.exitCode !== null) break;
    const nc = await tryConnect(options);
    if (nc) {
      return {
        nc,
        local: child,
        close: async () => {
          await nc.close();
          child.kill('SIGTERM');
        },
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new NatsUnavailableError(
    `started ${binary} for ${config.nats.url}, but it did not accept connections within ${LOCAL_START_DEADLINE_MS / 1000} s (is the port taken?)`,
  );
}

async function tryConnect(options: ConnectionOptions): Promise<NatsConnection | null> {
  try {
    return await connect({ ...options, timeout: PROBE_TIMEOUT_MS, reconnect: true, waitOnFirstConnect: false });
  } catch {
    return null;
  }
}
