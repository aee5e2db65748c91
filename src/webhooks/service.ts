/**
 * The webhook endpoints of one gateway: the configured ones, started after the NATS
 * layer (the stream must exist) and closed before the connection. Each runs its own
 * durable consumer (endpoint.ts); a dead letter becomes a `webhook.dead_lettered`
 * fact of the event's account, published like every other fact.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { WebhookEndpointConfig } from '../config/schema.js';
import type { FactOf } from '../runtime/port.js';
import { checkEndpointUrl } from './address.js';
import { EndpointRunner } from './endpoint.js';
import { type DeliveryObserver, NO_OBSERVER } from './pipeline.js';

export type WebhookServiceOptions = {
  nc: NatsConnection;
  logger: Logger;
  endpoints: readonly WebhookEndpointConfig[];
  allowPrivateAddresses: boolean;
  ackWaitMs: number;
  deadLetter: (fact: FactOf<'webhook.dead_lettered'>) => void;
  observer?: DeliveryObserver;
};

export class WebhookService {
  readonly #o: WebhookServiceOptions;
  readonly #runners = new Map<string, EndpointRunner>();

  private constructor(o: WebhookServiceOptions) {
    this.#o = o;
  }

  static async start(o: WebhookServiceOptions): Promise<WebhookService> {
    const service = new WebhookService(o);
    try {
      for (const endpoint of o.endpoints) await service.#run(endpoint);
    } catch (err) {
      await service.close();
      throw err;
    }
    return service;
  }

  /** Endpoint ids with their runner (for metrics and the inspector). */
  get runners(): ReadonlyMap<string, EndpointRunner> {
    return this.#runners;
  }

  async #run(endpoint: WebhookEndpointConfig): Promise<EndpointRunner> {
    await checkEndpointUrl(endpoint.url, this.#o.allowPrivateAddresses);
    const { nc } = this.#o;
    const runner = new EndpointRunner({
      js: jetstream(nc),
      jsm: await jetstreamManager(nc),
      endpoint,
      ackWaitMs: this.#o.ackWaitMs,
      logger: this.#o.logger,
      observer: this.#o.observer ?? NO_OBSERVER,
      deadLetter: this.#o.deadLetter,
    });
    await runner.start();
    this.#runners.set(endpoint.id, runner);
    return runner;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#runners.values()].map((r) => r.close()));
    this.#runners.clear();
    // The naks of held events reach the server before the connection closes.
    await this.#o.nc.flush().catch(() => undefined);
  }
}
