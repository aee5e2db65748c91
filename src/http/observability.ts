/**
 * Everything the HTTP server shows, wired from the gateway's parts: the published-event
 * feed, the metrics, the inspector hub, readiness, and the server itself. The
 * composition root calls `startObservability` once the NATS layer is up and feeds it
 * the runtime's facts (readiness only) through the returned `fact`.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { InspectorHub } from '../inspect/hub.js';
import { createMetrics, type GatewayMetrics } from '../metrics/metrics.js';
import type { NatsLayer } from '../nats/layer.js';
import type { Gateway } from '../runtime/gateway.js';
import type { LoopMonitor } from '../runtime/loop-monitor.js';
import type { Fact } from '../runtime/port.js';
import { followPublished } from './published-feed.js';
import { ReadinessTracker } from './readiness.js';
import { startHttpServer } from './server.js';

/** How often pages get a status refresh (outbox depth settles when acks arrive). */
export const STATUS_REFRESH_MS = 1_000;

export interface Observability {
  url: string;
  metrics: GatewayMetrics;
  hub: InspectorHub;
  readiness: ReadinessTracker;
  /** Every fact of the runtime, in order (readiness follows the runtime, not NATS). */
  fact(fact: Fact): void;
  close(): Promise<void>;
}

export async function startObservability(o: { config: Config; logger: Logger; nc: NatsConnection; gateway: Gateway; layer: NatsLayer; loop: LoopMonitor }): Promise<Observability> {
  const { gateway, layer } = o;
  const running = () => gateway.list();
  const feed = followPublished(o.nc, (account) => gateway.has(account), o.logger);
  const metrics = createMetrics({ counters: layer.counters, projection: layer.projection, loop: o.loop, accounts: () => running().map((a) => a.account), natsConnected: feed.connected });
  const hub = new InspectorHub({ projection: layer.projection, accounts: running, natsConnected: feed.connected });
  const readiness = new ReadinessTracker({ natsConnected: feed.connected, enabled: o.config.accounts.filter((a) => a.connect).map((a) => a.id), accounts: running });
  feed.onEvent((event) => {
    metrics.observe(event);
    hub.observe(event);
  });
  const refresh = setInterval(() => hub.refresh(), STATUS_REFRESH_MS);
  refresh.unref();
  let server;
  try {
    server = await startHttpServer({
      ...o.config.http,
      logger: o.logger,
      registry: metrics.registry,
      hub,
      readiness: () => readiness.check(),
      stateOf: (account) => (gateway.has(account) ? gateway.state(account) : undefined),
    });
  } catch (err) {
    clearInterval(refresh);
    feed.close();
    throw err;
  }
  const http = server;
  return {
    url: http.url,
    metrics,
    hub,
    readiness,
    fact: (fact) => {
      if (fact.type === 'transition') readiness.observe(fact.account, fact.to, fact.from);
    },
    close: async () => {
      clearInterval(refresh);
      feed.close();
      await http.close();
    },
  };
}
