/**
 * A real nats-server per test suite: its own free port and its own JetStream store,
 * so suites never share state with each other or with the developer's server on
 * 4222. `restart()` keeps port and store dir, which is what "NATS went away and came
 * back" means to a client; `kill()` is the crash (SIGKILL, nothing flushed by the
 * server itself).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { afterAll, beforeAll } from 'vitest';
import { findNatsServer } from '../../src/bootstrap/nats.js';
import { until } from './waiters.js';

/** JetStream recovers its store before accepting clients; 10 s covers a cold CI disk. */
const START_TIMEOUT_MS = 10_000;
/** SIGTERM lets the server flush its store; after this we stop being polite. */
const STOP_TIMEOUT_MS = 5_000;
/** How often readiness is probed: short, the server is usually up in ~50 ms. */
const POLL_INTERVAL_MS = 20;

export type NatsServerOptions = {
  jetstream?: boolean;
  binary?: string;
  /** Extra command-line arguments (e.g. `['--max_payload', '2MB']`). */
  args?: string[];
};

export type NatsServer = {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** Still running? */
  readonly running: boolean;
  /** SIGTERM, wait for exit, remove the store dir. Final. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit; the store dir stays for `restart()`. */
  kill(): Promise<void>;
  /** Stop (SIGTERM) if running, then start again on the same port and store dir. */
  restart(): Promise<void>;
};

export function findNatsServerBinary(): string {
  const found = findNatsServer();
  if (!found) throw new Error('nats-server not found: install it (apt install nats-server) or set NATS_SERVER_BIN');
  return found;
}

export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const binary = options.binary ?? findNatsServerBinary();
  const storeDir = await mkdtemp(join(tmpdir(), 'wa-connd-nats-'));
  const port = await freePort();
  const args = [
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
    ...(options.jetstream === false ? [] : ['-js', '-sd', storeDir]),
    ...(options.args ?? []),
  ];

  let child: ChildProcess | undefined;
  const launch = async () => {
    child = await spawnAndWait(binary, args, port);
  };
  const terminate = async (signal: NodeJS.Signals) => {
    const c = child;
    child = undefined;
    if (c) await signalAndWait(c, signal);
  };

  try {
    await launch();
  } catch (err) {
    await rm(storeDir, { recursive: true, force: true });
    throw err;
  }

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    get running() {
      return child !== undefined;
    },
    async stop() {
      await terminate('SIGTERM');
      await rm(storeDir, { recursive: true, force: true });
    },
    async kill() {
      await terminate('SIGKILL');
    },
    async restart() {
      await terminate('SIGTERM');
      await launch();
    },
  };
}

/**
 * Connects with settings suited to tests that restart the server: reconnect forever,
 * quickly, so a client sees the restart as a short gap rather than a closed connection.
 */
export function connectTo(url: string, options: Partial<NodeConnectionOptions> = {}): Promise<NatsConnection> {
  return connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 50, ...options });
}

/**
 * Resolves on the connection's next status of `type` (e.g. `reconnect`). Subscribe
 * *before* causing it. Tests need this because a request issued while the client is
 * disconnected can be lost and only time out (seen with nats.js 3.4 against 2.9.10
 * across a restart), so "after restart" means "after the client says reconnect".
 */
export function nextStatus(nc: NatsConnection, type: string, timeoutMs = START_TIMEOUT_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    const statuses = nc.status()[Symbol.asyncIterator]();
    const timer = setTimeout(() => {
      void statuses.return?.();
      reject(new Error(`no "${type}" status within ${timeoutMs} ms`));
    }, timeoutMs);
    void (async () => {
      for (let s = await statuses.next(); !s.done; s = await statuses.next()) {
        if (s.value.type === type) {
          clearTimeout(timer);
          void statuses.return?.();
          resolve();
          return;
        }
      }
    })();
  });
}

/** The OS picks a free port for a throwaway listener; nats-server gets it next. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

export async function spawnAndWait(binary: string, args: string[], port: number): Promise<ChildProcess> {
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    // Keep the tail only: enough to explain a failed start.
    log = (log + chunk.toString()).slice(-4000);
  });
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited (code ${code}, signal ${signal})`;
  });
  child.once('error', (err) => {
    exited = `failed to spawn: ${err.message}`;
  });

  try {
    await until(
      () => `nats-server on port ${port} to be ready\n${log}`,
      async () => {
        if (exited) throw new Error(`nats-server on port ${port} ${exited}\n${log}`);
        return answersInfo(port);
      },
      START_TIMEOUT_MS,
      POLL_INTERVAL_MS,
    );
  } catch (err) {
    await signalAndWait(child, 'SIGKILL');
    throw err;
  }
  return child;
}

/** Ready = the server greets a TCP client with its INFO line (JetStream is up by then). */
function answersInfo(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (d) => done(d.toString().startsWith('INFO ')));
  });
}

export async function signalAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * One nats-server and one client connection for a test file: started before its tests (handed
 * to `ready`), closed after them.
 */
export function natsServerPerFile(ready: (server: NatsServer, nc: NatsConnection) => void): void {
  let server: NatsServer | undefined;
  let nc: NatsConnection | undefined;
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connectTo(server.url);
    ready(server, nc);
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });
}
