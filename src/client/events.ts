/**
 * `events()`: the `WA_EVENTS` stream as an async iterator, through an ordered consumer
 * (ephemeral, no acks, redelivered in order after a reconnect). Fence markers are not
 * events and are skipped; so is anything that does not parse as an event of the subject
 * it was stored on (a broken publisher must not break a reader). Each item carries the
 * stream sequence: pass `since: last.streamSeq + 1` to resume exactly after it.
 */
import {
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
  type OrderedConsumerOptions,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  EVENTS_STREAM,
  WaError,
  assertAccountId,
  evtFilter,
  evtSubject,
  evtTypeFilter,
  isEventType,
  isFenceMarker,
  parseEvent,
  type EventType,
  type WaEvent,
} from '../contract/index.js';

export type EventsOptions = {
  /** One account; all accounts when absent. */
  account?: string;
  /** One type or several (several are filtered here: nats-server 2.9 has one filter per consumer). */
  type?: EventType | readonly EventType[];
  /**
   * Where to start. A number is a stream sequence (`1`: from the oldest event kept;
   * `last.streamSeq + 1`: resume); a `Date` or ISO string is a time. Absent: only
   * events published from now on when following, the whole stream otherwise.
   */
  since?: number | Date | string;
  /** true (default): wait for new events forever. false: stop at the stream's end as it was when iteration began. */
  follow?: boolean;
};

export type StreamEvent = {
  /** Position in `WA_EVENTS`; resume with `since: streamSeq + 1`. */
  streamSeq: number;
  subject: string;
  event: WaEvent;
};

export interface EventFeed extends AsyncIterableIterator<StreamEvent> {
  /** Ends the iteration (a pending `next()` resolves done) and deletes the consumer. */
  close(): void;
  /** Messages passed over because they were not valid events (fence markers are not counted). */
  readonly skipped: number;
}

export function eventFeed(nc: NatsConnection, options: EventsOptions = {}): EventFeed {
  const follow = options.follow ?? true;
  const types =
    options.type === undefined ? undefined : typeof options.type === 'string' ? [options.type] : [...options.type];
  for (const t of types ?? []) {
    if (!isEventType(t)) throw new WaError('bad_request', `unknown event type ${JSON.stringify(t)}`);
  }
  if (options.account !== undefined) assertAccountId(options.account);
  const filter = serverFilter(options.account, types);
  const wanted = types ? new Set<string>(types) : null;
  const start = startOf(options.since, follow);

  let messages: ConsumerMessages | undefined;
  let closed = false;
  let skipped = 0;

  async function* run(): AsyncGenerator<StreamEvent> {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    let until: number | undefined;
    if (!follow) {
      until = (await streamInfo(jsm)).state.last_seq;
      if (until === 0) return;
    }
    const consumer = await js.consumers
      .get(EVENTS_STREAM, { filter_subjects: filter, ...start })
      .catch((err: unknown) => {
        throw noStream(err);
      });
    try {
      if (!follow && (await consumer.info(true)).num_pending === 0) return;
      if (closed) return;
      messages = await consumer.consume();
      for await (const m of messages) {
        const last = until !== undefined && (m.seq >= until || m.info.pending === 0);
        const item = take(m);
        if (item && (!wanted || wanted.has(item.event.type))) yield item;
        if (last || closed) break;
      }
    } finally {
      messages?.stop();
      await consumer.delete().catch(() => undefined);
    }
  }

  function take(m: JsMsg): StreamEvent | null {
    if (isFenceMarker(m.headers)) return null;
    const event = parseEvent(m.data);
    if (event instanceof WaError || m.subject !== evtSubject(event.account, event.type)) {
      skipped++;
      return null;
    }
    return { streamSeq: m.seq, subject: m.subject, event };
  }

  const gen = run();
  return Object.assign(gen, {
    close: () => {
      closed = true;
      messages?.stop();
    },
    get skipped() {
      return skipped;
    },
  });
}

/** The narrowest single subject filter the server can apply. */
function serverFilter(account: string | undefined, types: string[] | undefined): string {
  const one = types?.length === 1 ? types[0] : undefined;
  if (account !== undefined) return one ? evtSubject(account, one) : evtFilter(account);
  return one ? evtTypeFilter(one) : evtFilter();
}

function startOf(since: EventsOptions['since'], follow: boolean): Partial<OrderedConsumerOptions> {
  if (since === undefined) return { deliver_policy: follow ? DeliverPolicy.New : DeliverPolicy.All };
  if (typeof since === 'number') {
    if (!Number.isSafeInteger(since) || since < 1)
      throw new WaError('bad_request', `since: a stream sequence is an integer ≥ 1, got ${since}`);
    return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: since };
  }
  const at = since instanceof Date ? since : new Date(since);
  if (Number.isNaN(at.getTime()))
    throw new WaError('bad_request', `since: not a stream sequence or a time: ${JSON.stringify(String(since))}`);
  return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: at.toISOString() };
}

async function streamInfo(jsm: JetStreamManager) {
  try {
    return await jsm.streams.info(EVENTS_STREAM);
  } catch (err) {
    throw noStream(err);
  }
}

function noStream(err: unknown): WaError {
  const missing = err instanceof Error && /stream not found/i.test(err.message);
  return new WaError(
    'unavailable',
    missing
      ? `stream ${EVENTS_STREAM} does not exist on this NATS: no gateway has run against it yet`
      : `cannot read ${EVENTS_STREAM}: ${err instanceof Error ? err.message : String(err)}`,
    { cause: err },
  );
}
