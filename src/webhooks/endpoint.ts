/**
 * One endpoint's durable JetStream consumer on `WA_EVENTS` (`wh_<id>`), feeding its
 * delivery pipeline. The consumer's position is the endpoint's progress: an event is
 * acked only once delivered or dead-lettered, so after a restart of the gateway,
 * NATS or the receiver, delivery resumes where it was (redelivered events keep their
 * `webhook-id`, receivers deduplicate).
 *
 * Held events (queued or in flight) are kept from redelivery with `working()` every
 * third of the ack wait; on close they are nak'ed in stream order, so the next
 * process gets them at once instead of after the ack wait.
 */
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type ConsumerMessages,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { WebhookEndpointConfig } from '../config/schema.js';
import { EVENTS_STREAM, evtFilter, isFenceMarker, parseEvent, WaError } from '../contract/index.js';
import type { FactOf } from '../runtime/port.js';
import { type DeliveryObserver, Pipeline, type PipelineOptions } from './pipeline.js';
import { type ReplayFrom, startReplay } from './replay.js';
import { wants } from './filter.js';
import { Sender } from './http.js';
import { Signer } from './signing.js';
import { sleep } from '../nats/waiting.js';

/**
 * A pull request's life; heartbeats come at half of it, and two missed ones make the
 * client check on its consumer. Shorter than the client's 30 s default, so a consumer
 * deleted under a running endpoint is noticed (and re-created) within ~10 s.
 */
const PULL_EXPIRES_MS = 5_000;
/** Messages the client pulls ahead per request: enough to keep 256 accounts busy. */
const PULL_BATCH = 256;
/** Past the ack wait, so the server's redelivery timer has fired for every orphaned event. */
const ORPHAN_MARGIN_MS = 250;
/** A shutdown while NATS is away does not hang on the clean-close mark; without it the next start just waits the ack wait. */
const CLOSE_MARK_MS = 2_000;
/** Events an endpoint holds unacked at most: bounds memory while a receiver is down. */
export const MAX_HELD = 2_000;

export function consumerName(endpoint: string): string {
  return `wh_${endpoint}`;
}

/**
 * Whether the endpoint's last runner closed cleanly (nak'ed what it held, so those
 * events come first at once) or crashed (they come only after the ack wait). The
 * consumer's info cannot tell the two apart: nak'ed events count as pending too.
 */
export type CloseMarks = {
  /** True when the last close was clean; clears the mark, so a crash from now on is not taken for one. */
  takeClean(id: string): Promise<boolean>;
  markClean(id: string): Promise<void>;
};

export type EndpointOptions = {
  marks: CloseMarks;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  endpoint: WebhookEndpointConfig;
  ackWaitMs: number;
  /** Off: every connection's DNS answer is checked (http.ts). */
  allowPrivateAddresses: boolean;
  logger: Logger;
  observer: DeliveryObserver;
  deadLetter: (fact: FactOf<'webhook.dead_lettered'>) => void;
};

export class EndpointRunner {
  readonly config: WebhookEndpointConfig;
  readonly #o: EndpointOptions;
  readonly #abort = new AbortController();
  readonly #held = new Map<number, JsMsg>();
  readonly #pipeline: Pipeline;
  readonly #pipelineOptions: PipelineOptions;
  readonly #log: Logger;
  #messages: ConsumerMessages | null = null;
  #pumped: Promise<void> = Promise.resolve();
  #keepalive: NodeJS.Timeout | undefined;
  /** Highest stream sequence delivered or dead-lettered here (where a re-created consumer resumes). */
  #lastDone = 0;

  constructor(o: EndpointOptions) {
    this.#o = o;
    this.config = o.endpoint;
    this.#log = o.logger.child({ webhook: o.endpoint.id });
    const e = o.endpoint;
    this.#pipelineOptions = {
      endpoint: e.id,
      sender: new Sender(e.url, o.allowPrivateAddresses, e.concurrency),
      timeoutMs: e.timeoutMs,
      concurrency: e.concurrency,
      batch: e.batch,
      retry: e.retry,
      signer: new Signer(e.secret),
      logger: this.#log,
      observer: o.observer,
      deadLetter: o.deadLetter,
      signal: this.#abort.signal,
    };
    this.#pipeline = new Pipeline(this.#pipelineOptions);
  }

  get name(): string {
    return consumerName(this.config.id);
  }

  /**
   * Creates the consumer when it is not there. `after`: re-created after it was deleted
   * under a running endpoint: from the event after the last one done here, so what was
   * stored meanwhile is not skipped.
   */
  async #ensureConsumer(after?: number): Promise<void> {
    const { jsm } = this.#o;
    try {
      await jsm.consumers.info(EVENTS_STREAM, this.name);
      return;
    } catch {
      // Not there: created below.
    }
    const start =
      after !== undefined
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 }
        : { deliver_policy: this.config.startAt === 'all' ? DeliverPolicy.All : DeliverPolicy.New };
    // A filter subject (not `filter_subjects`): nats-server 2.9.
    await jsm.consumers.add(EVENTS_STREAM, {
      durable_name: this.name,
      ack_policy: AckPolicy.Explicit,
      ...start,
      filter_subject: evtFilter(),
      ack_wait: nanos(this.#o.ackWaitMs),
      max_ack_pending: MAX_HELD,
    });
  }

  /** Someone deleted the consumer under us: the client resumes once it exists again, so it is re-created. */
  async #watch(messages: ConsumerMessages): Promise<void> {
    for await (const s of messages.status()) {
      if (this.#abort.signal.aborted) return;
      if (s.type !== 'consumer_deleted' && s.type !== 'consumer_not_found') continue;
      const held = [...this.#held.keys()];
      const after = held.length > 0 ? Math.min(...held) - 1 : this.#lastDone;
      this.#log.warn({ consumer: this.name, fromSeq: after + 1 }, 'webhook consumer was deleted: re-created');
      // What was held belongs to the deleted consumer: it comes again from the new one.
      this.#held.clear();
      await this.#ensureConsumer(after).catch((err: unknown) =>
        this.#log.error({ err }, 'could not re-create the webhook consumer'),
      );
    }
  }

  async start(): Promise<void> {
    const { jsm, js } = this.#o;
    await this.#ensureConsumer();
    // Events a crashed process held are redelivered only after their ack wait, while new
    // ones would come at once: an account's later event would overtake its earlier one.
    // So consumption starts once they are due again (the server then sends them first).
    const clean = await this.#o.marks.takeClean(this.config.id);
    const orphaned = clean ? 0 : (await jsm.consumers.info(EVENTS_STREAM, this.name)).num_ack_pending;
    if (orphaned > 0)
      this.#log.info(
        { orphaned, waitMs: this.#o.ackWaitMs + ORPHAN_MARGIN_MS },
        'events held by a previous process: delivery resumes once they are redelivered',
      );
    this.#pumped = (async () => {
      if (orphaned > 0) await sleep(this.#o.ackWaitMs + ORPHAN_MARGIN_MS, this.#abort.signal);
      if (this.#abort.signal.aborted) return;
      const consumer = await js.consumers.get(EVENTS_STREAM, this.name);
      const messages = await consumer.consume({ max_messages: PULL_BATCH, expires: PULL_EXPIRES_MS });
      this.#messages = messages;
      if (this.#abort.signal.aborted) return void (await messages.close().catch(() => undefined));
      void this.#watch(messages).catch((err: unknown) => this.#log.warn({ err }, 'consumer status watch ended'));
      await this.#pump(messages);
    })().catch((err: unknown) => this.#log.error({ err }, 'webhook consumer did not start'));
    this.#keepalive = setInterval(
      () => {
        for (const m of this.#held.values()) m.working();
      },
      Math.max(100, Math.floor(this.#o.ackWaitMs / 3)),
    );
    this.#keepalive.unref();
    this.#log.info({ consumer: this.name }, 'webhook endpoint started');
  }

  /** Events not finished with: pending in the consumer plus held unacked (0 when NATS cannot say). */
  async lag(): Promise<number> {
    try {
      const info = await this.#o.jsm.consumers.info(EVENTS_STREAM, this.name);
      return info.num_pending + info.num_ack_pending;
    } catch {
      return 0;
    }
  }

  /** Events held (queued or in flight) now. */
  get held(): number {
    return this.#held.size;
  }

  async #pump(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const m of messages) this.#accept(m);
    } catch (err) {
      if (!this.#abort.signal.aborted) this.#log.error({ err }, 'webhook consumer stopped');
    }
  }

  #accept(m: JsMsg): void {
    // Closing: kept only to be nak'ed with the rest, in stream order.
    if (this.#abort.signal.aborted) return void this.#held.set(m.seq, m);
    if (isFenceMarker(m.headers)) return m.ack();
    // A redelivery of an event still held here (an ack wait ran out): keep the newest handle, send once.
    if (this.#held.has(m.seq)) {
      this.#held.set(m.seq, m);
      return;
    }
    const event = parseEvent(m.data);
    if (event instanceof WaError) {
      this.#log.warn({ streamSeq: m.seq, err: event.message }, 'not an event: skipped');
      return m.ack();
    }
    if (!wants(this.config, event)) return m.ack();
    this.#held.set(m.seq, m);
    this.#pipeline.push({
      streamSeq: m.seq,
      event,
      done: () => {
        this.#held.get(m.seq)?.ack();
        this.#held.delete(m.seq);
        this.#lastDone = Math.max(this.#lastDone, m.seq);
      },
    });
  }

  /** Sends the endpoint's events from `from` again (replay.ts); stops when the endpoint closes. */
  replay(from: ReplayFrom): Promise<{ fromSeq: number; toSeq: number }> {
    const { js, jsm } = this.#o;
    const pipeline = new Pipeline(this.#pipelineOptions);
    return startReplay(
      {
        js,
        jsm,
        wants: (e) => wants(this.config, e),
        pipeline,
        maxHeld: MAX_HELD,
        signal: this.#abort.signal,
        logger: this.#log.child({ replay: true }),
      },
      from,
    );
  }

  /** Stops delivering; what is held goes back to the consumer (nak, in stream order). */
  async close(): Promise<void> {
    if (this.#abort.signal.aborted) return;
    this.#abort.abort();
    clearInterval(this.#keepalive);
    await this.#messages?.close().catch(() => undefined);
    await this.#pumped;
    await this.#pipeline.idle();
    this.#pipelineOptions.sender.close();
    for (const seq of [...this.#held.keys()].sort((a, b) => a - b)) this.#held.get(seq)?.nak();
    this.#held.clear();
    let timer: NodeJS.Timeout | undefined;
    try {
      // The naks must be at the server before the mark says they are.
      const mark = this.#o.nc.flush().then(() => this.#o.marks.markClean(this.config.id));
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CLOSE_MARK_MS} ms`)), CLOSE_MARK_MS);
      });
      await Promise.race([mark, late]);
    } catch (err) {
      this.#log.warn({ err }, 'could not record a clean close: the next start waits out the ack wait');
    } finally {
      clearTimeout(timer);
    }
  }

  /** Close and forget the position: the endpoint was removed. */
  async remove(): Promise<void> {
    await this.close();
    await this.#o.jsm.consumers.delete(EVENTS_STREAM, this.name).catch(() => undefined);
  }
}
