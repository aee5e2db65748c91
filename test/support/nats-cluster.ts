/**
 * Three (or n) nats-server processes clustered on loopback ports, each with its own
 * JetStream store: the multi-machine case of docs/scaling.md on one box. `kill(i)` is a
 * node crash (SIGKILL). Ready means JetStream answers through the cluster (a meta
 * leader was elected), so a gateway's first stream create does not race the election.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { findNatsServerBinary, freePort, signalAndWait, spawnAndWait } from './nats-server.js';
import { until } from './waiters.js';

/** A meta-leader election among three fresh nodes takes a few seconds on a loaded box. */
const CLUSTER_READY_MS = 30_000;

export type NatsCluster = {
  /** Client URLs, one per node. */
  urls: string[];
  /** All nodes, comma-separated, as NATS_URL takes them. */
  url: string;
  kill(node: number): Promise<void>;
  stop(): Promise<void>;
  /** Each node's state (running, or how it ended) and the tail of its log, to explain a failure. */
  describe(): string;
};

/** The tail of a node's log kept for `describe()`. */
const LOG_TAIL = 3_000;

export async function startNatsCluster(n = 3): Promise<NatsCluster> {
  const binary = findNatsServerBinary();
  const ports = await Promise.all(Array.from({ length: n }, () => freePort()));
  const routePorts = await Promise.all(Array.from({ length: n }, () => freePort()));
  const dirs = await Promise.all(Array.from({ length: n }, () => mkdtemp(join(tmpdir(), 'wa-connd-cluster-'))));
  const routes = routePorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
  const children: (ChildProcess | undefined)[] = [];
  const stop = async () => {
    await Promise.all(children.flatMap((c) => (c ? [signalAndWait(c, 'SIGTERM')] : [])));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  };
  try {
    const started = await Promise.all(
      ports.map((port, i) =>
        spawnAndWait(
          binary,
          [
            ...['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dirs[i]!],
            ...['--server_name', `n${i + 1}`, '--cluster_name', 'wa-test'],
            ...['--cluster', `nats://127.0.0.1:${routePorts[i]}`, '--routes', routes],
          ],
          port,
        ),
      ),
    );
    children.push(...started);
    const notes = started.map(() => ({ state: 'running', log: '' }));
    started.forEach((c, i) => {
      c.stderr?.on('data', (b: Buffer) => {
        notes[i]!.log = (notes[i]!.log + b.toString()).slice(-LOG_TAIL);
      });
      c.once('exit', (code, signal) => {
        notes[i]!.state = `exited (code ${String(code)}, signal ${String(signal)})`;
      });
    });
    const urls = ports.map((p) => `nats://127.0.0.1:${p}`);
    const nc = await connect({ servers: urls });
    try {
      // jetstreamManager itself asks for the account info: it fails until a meta leader exists.
      await until(
        'clustered JetStream ready',
        () =>
          jetstreamManager(nc, { timeout: 2_000 }).then(
            () => true,
            () => undefined,
          ),
        CLUSTER_READY_MS,
        200,
      );
    } finally {
      await nc.close();
    }
    return {
      urls,
      url: urls.join(','),
      kill: async (node) => {
        const c = children[node];
        children[node] = undefined;
        if (c) await signalAndWait(c, 'SIGKILL');
      },
      stop,
      describe: () => notes.map((n, i) => `--- nats node n${i + 1}: ${n.state}\n${n.log}`).join('\n'),
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
