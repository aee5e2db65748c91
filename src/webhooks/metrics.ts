/**
 * Per-endpoint webhook metrics on the gateway's registry: counters and the request
 * histogram are fed by the delivery pipelines as it happens (DeliveryObserver); the
 * consumer lag is read from JetStream at scrape time.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DeliveryObserver } from './pipeline.js';

/** Receiver answers: loopback milliseconds to a slow serverless cold start and the default 10 s timeout. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export type LagSource = () => Promise<{ endpoint: string; pending: number }[]>;

export function registerWebhookMetrics(registry: Registry, lag: LagSource): DeliveryObserver {
  const registers = [registry];
  const labelNames = ['endpoint'] as const;
  const delivered = new Counter({
    name: 'wa_webhook_delivered_total',
    help: 'Events a webhook receiver answered 2xx.',
    labelNames,
    registers,
  });
  const failed = new Counter({
    name: 'wa_webhook_failed_attempts_total',
    help: 'Webhook requests that failed (non-2xx, timeout, connection error); retried or dead-lettered.',
    labelNames,
    registers,
  });
  const retried = new Counter({
    name: 'wa_webhook_retries_total',
    help: 'Webhook requests sent again after a failed one.',
    labelNames,
    registers,
  });
  const dead = new Counter({
    name: 'wa_webhook_dead_lettered_total',
    help: 'Events given up on (retry budget spent, or refused with a 4xx): webhook.dead_lettered.',
    labelNames,
    registers,
  });
  const latency = new Histogram({
    name: 'wa_webhook_request_duration_seconds',
    help: 'Webhook request → 2xx answer, per delivered attempt.',
    labelNames,
    buckets: REQUEST_BUCKETS,
    registers,
  });
  new Gauge({
    name: 'wa_webhook_consumer_lag',
    help: 'Events of WA_EVENTS an endpoint has not finished with: not yet delivered to this process plus held unacked (its durable consumer).',
    labelNames,
    registers,
    async collect() {
      this.reset();
      for (const { endpoint, pending } of await lag()) this.set({ endpoint }, pending);
    },
  });
  return {
    delivered: (endpoint, seconds) => {
      delivered.inc({ endpoint });
      latency.observe({ endpoint }, seconds);
    },
    failed: (endpoint) => failed.inc({ endpoint }),
    retried: (endpoint) => retried.inc({ endpoint }),
    deadLettered: (endpoint) => dead.inc({ endpoint }),
  };
}
