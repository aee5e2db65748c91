/**
 * The webhook endpoints of one gateway: the configured ones and those added at run
 * time (`wa.cmd.webhooks.add`, kept in the KV bucket `WA_WEBHOOKS` so they survive a
 * restart), started after the NATS layer (the stream must exist) and closed before
 * the connection. Each runs its own durable consumer (endpoint.ts); a dead letter
 * becomes a `webhook.dead_lettered` fact of the event's account.
 */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { WaError, webhookEndpointSchema, type WebhookEndpointConfig } from '../contract/index.js';
import type { WebhookAdmin } from '../nats/command-service.js';
import { retrySetup } from '../nats/setup-retry.js';
import type { FactOf } from '../runtime/port.js';
import { checkEndpointUrl } from './address.js';
import { type CloseMarks, EndpointRunner } from './endpoint.js';
import { type DeliveryObserver, NO_OBSERVER } from './pipeline.js';
import type { ReplayFrom } from './replay.js';

/** Endpoints added at run time: key = endpoint id, value = the endpoint's JSON (secret included: the bucket is the gateway's own). */
export const WEBHOOKS_BUCKET = 'WA_WEBHOOKS';

export type WebhookServiceOptions = {
  nc: NatsConnection;
  logger: Logger;
  endpoints: readonly WebhookEndpointConfig[];
  allowPrivateAddresses: boolean;
  ackWaitMs: number;
  deadLetter: (fact: FactOf<'webhook.dead_lettered'>) => void;
  observer?: DeliveryObserver;
  /** WA_WEBHOOKS replicas: the streams' (`stream.replicas`; 3 in a cluster). */
  replicas?: number;
};

type Source = 'config' | 'runtime';

/** What the inspector shows of an endpoint: no secret, and only the URL's origin (paths often carry a token). */
export type WebhookPanel = {
  id: string;
  origin: string;
  source: Source;
  held: number;
  delivered: number;
  failedAttempts: number;
  deadLettered: number;
  /** Cause of the last failed attempt (`http 503`, `timeout` …), if any since the start. */
  lastFailure: string | null;
};

type Tally = Pick<WebhookPanel, 'delivered' | 'failedAttempts' | 'deadLettered' | 'lastFailure'>;

/** Beside the endpoints (whose ids have no dot): the mark of a clean close (endpoint.ts, CloseMarks). */
const CLEAN_PREFIX = 'closed.';
const cleanKey = (id: string) => `${CLEAN_PREFIX}${id}`;

export class WebhookService implements WebhookAdmin {
  readonly #o: WebhookServiceOptions;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #kv: KV;
  readonly #runners = new Map<string, { runner: EndpointRunner; source: Source }>();
  readonly #log: Logger;
  readonly #tallies = new Map<string, Tally>();
  /** The caller's observer, plus the tallies the inspector shows. */
  readonly #observer: DeliveryObserver;
  readonly #marks: CloseMarks = {
    takeClean: async (id) => {
      const entry = await this.#kv.get(cleanKey(id));
      if (entry?.operation !== 'PUT') return false;
      await this.#kv.delete(cleanKey(id));
      return true;
    },
    markClean: async (id) => {
      await this.#kv.put(cleanKey(id), new Date().toISOString());
    },
  };

  private constructor(o: WebhookServiceOptions, jsm: JetStreamManager, kv: KV) {
    this.#o = o;
    this.#js = jetstream(o.nc);
    this.#jsm = jsm;
    this.#kv = kv;
    this.#log = o.logger.child({ component: 'webhooks' });
    const outer = o.observer ?? NO_OBSERVER;
    const tally = (id: string): Tally => {
      let t = this.#tallies.get(id);
      if (!t) this.#tallies.set(id, (t = { delivered: 0, failedAttempts: 0, deadLettered: 0, lastFailure: null }));
      return t;
    };
    this.#observer = {
      delivered: (id, s) => {
        tally(id).delivered++;
        outer.delivered(id, s);
      },
      failed: (id, reason) => {
        const t = tally(id);
        t.failedAttempts++;
        t.lastFailure = reason;
        outer.failed(id, reason);
      },
      retried: (id) => outer.retried(id),
      deadLettered: (id) => {
        tally(id).deadLettered++;
        outer.deadLettered(id);
      },
    };
  }

  static async start(o: WebhookServiceOptions): Promise<WebhookService> {
    const kv = await retrySetup(
      WEBHOOKS_BUCKET,
      () => new Kvm(o.nc).create(WEBHOOKS_BUCKET, { history: 1, replicas: o.replicas ?? 1 }),
      o.logger,
    );
    const service = new WebhookService(o, await retrySetup('JetStream', () => jetstreamManager(o.nc), o.logger), kv);
    try {
      for (const endpoint of o.endpoints) await service.#run(endpoint, 'config');
      for (const endpoint of await service.#stored()) {
        if (service.#runners.has(endpoint.id))
          service.#log.warn(
            { webhook: endpoint.id },
            'an endpoint added at run time has the id of a configured one: the configured one runs',
          );
        else {
          // A stored endpoint the address policy now refuses (or whose host is gone) must not keep the gateway down.
          await service
            .#run(endpoint, 'runtime')
            .catch((err: unknown) =>
              service.#log.error({ err, webhook: endpoint.id }, 'a webhook endpoint added at run time did not start'),
            );
        }
      }
    } catch (err) {
      await service.close();
      throw err;
    }
    return service;
  }

  /** Endpoint ids with their runner (for metrics and the inspector). */
  runner(id: string): EndpointRunner | undefined {
    return this.#runners.get(id)?.runner;
  }

  /** Per endpoint, events it has not finished with (for /metrics). */
  lag(): Promise<{ endpoint: string; pending: number }[]> {
    return Promise.all(
      [...this.#runners.entries()].map(async ([endpoint, { runner }]) => ({ endpoint, pending: await runner.lag() })),
    );
  }

  panels(): WebhookPanel[] {
    return [...this.#runners.entries()].map(([id, { runner, source }]) => ({
      id,
      origin: new URL(runner.config.url).origin,
      source,
      held: runner.held,
      ...(this.#tallies.get(id) ?? { delivered: 0, failedAttempts: 0, deadLettered: 0, lastFailure: null }),
    }));
  }

  ids(): string[] {
    return [...this.#runners.keys()];
  }

  list(): ReturnType<WebhookAdmin['list']> {
    return [...this.#runners.entries()].map(([id, { runner, source }]) => ({
      id,
      url: runner.config.url,
      ...(runner.config.accounts ? { accounts: [...runner.config.accounts] } : {}),
      ...(runner.config.types ? { types: [...runner.config.types] } : {}),
      source,
      held: runner.held,
    }));
  }

  async add(endpoint: WebhookEndpointConfig): Promise<void> {
    if (this.#runners.has(endpoint.id))
      throw new WaError('conflict', `webhook endpoint ${endpoint.id} exists; remove it first`);
    await checkEndpointUrl(endpoint.url, this.#o.allowPrivateAddresses);
    // Stored first: an endpoint that runs but would be forgotten by a restart is worse than one retried.
    await this.#kv.put(endpoint.id, JSON.stringify(endpoint));
    await this.#run(endpoint, 'runtime');
  }

  async remove(id: string): Promise<void> {
    const entry = this.#runners.get(id);
    if (!entry) throw new WaError('bad_request', `unknown webhook endpoint ${JSON.stringify(id)}`);
    if (entry.source === 'config')
      throw new WaError('conflict', `webhook endpoint ${id} is in the config file: remove it there`);
    this.#runners.delete(id);
    await entry.runner.remove();
    await this.#kv.delete(id);
    await this.#kv.delete(cleanKey(id));
  }

  replay(id: string, from: ReplayFrom): Promise<{ fromSeq: number; toSeq: number }> {
    const entry = this.#runners.get(id);
    if (!entry) return Promise.reject(new WaError('bad_request', `unknown webhook endpoint ${JSON.stringify(id)}`));
    return entry.runner.replay(from);
  }

  async #stored(): Promise<WebhookEndpointConfig[]> {
    const out: WebhookEndpointConfig[] = [];
    for await (const key of await this.#kv.keys()) {
      if (key.startsWith(CLEAN_PREFIX)) continue;
      const entry = await this.#kv.get(key);
      if (!entry || entry.operation !== 'PUT') continue;
      const parsed = webhookEndpointSchema.safeParse(entry.json());
      if (parsed.success) out.push(parsed.data);
      else this.#log.error({ webhook: key }, 'a stored webhook endpoint does not validate: not started');
    }
    return out;
  }

  async #run(endpoint: WebhookEndpointConfig, source: Source): Promise<void> {
    await checkEndpointUrl(endpoint.url, this.#o.allowPrivateAddresses);
    const runner = new EndpointRunner({
      nc: this.#o.nc,
      marks: this.#marks,
      js: this.#js,
      jsm: this.#jsm,
      endpoint,
      ackWaitMs: this.#o.ackWaitMs,
      allowPrivateAddresses: this.#o.allowPrivateAddresses,
      logger: this.#o.logger,
      observer: this.#observer,
      deadLetter: this.#o.deadLetter,
    });
    await runner.start();
    this.#runners.set(endpoint.id, { runner, source });
  }

  async close(): Promise<void> {
    await Promise.all([...this.#runners.values()].map(({ runner }) => runner.close()));
    this.#runners.clear();
    // The naks of held events reach the server before the connection closes.
    await this.#o.nc.flush().catch(() => undefined);
  }
}
