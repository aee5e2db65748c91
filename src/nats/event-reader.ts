/**
 * Reads `WA_EVENTS` from the start, in stream order, through an ordered (ephemeral,
 * unacknowledged) consumer: how projections are rebuilt on start and on takeover.
 * Fence markers are skipped; a message that is not a valid event is skipped and
 * reported (the stream may hold what an older or broken writer put there, and one bad
 * message must not stop a gateway from starting). A read never waits unboundedly: see
 * `READ_STALL_MS`.
 */
import {
  type Consumer,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { EVENTS_STREAM, evtSubject, isFenceMarker, parseEvent, WaError, type WaEvent } from '../contract/index.js';

export type ReadStats = { events: number; markers: number; invalid: number; lastStreamSeq: number };

/** Messages a read asks for at once; large enough that a 100k-event rebuild is a few hundred pulls. */
const READ_BATCH = 1000;

/**
 * A read that has received nothing for this long is given up (`ReadStalledError`) and
 * its caller reads again. A healthy server streams thousands of events a second, so 5 s
 * of silence means the consumer is gone (nats-server restarted under it): left alone,
 * the client would notice only after its 30 s pull expiry plus missed heartbeats (~48 s).
 */
export const READ_STALL_MS = 5_000;

/** The read made no progress within its deadline; nothing it read may be used. */
export class ReadStalledError extends Error {
  override readonly name = 'ReadStalledError';
}

/**
 * Calls `onEvent` for every event on `filter` up to the stream's last sequence as it
 * was when the read began; later messages are left to the live path. Every step (stream
 * info, consumer, each message) must come within `stallMs` of the previous one, else
 * the read rejects with `ReadStalledError` and calls `onEvent` no more.
 */
export async function readEvents(
  js: JetStreamClient,
  jsm: JetStreamManager,
  filter: string,
  onEvent: (event: WaEvent, streamSeq: number) => void,
  logger: Logger,
  stallMs = READ_STALL_MS,
): Promise<ReadStats> {
  const stats: ReadStats = { events: 0, markers: 0, invalid: 0, lastStreamSeq: 0 };
  let messages: ConsumerMessages | undefined;
  let consumer: Consumer | undefined;
  let abandoned = false;
  let timer: NodeJS.Timeout | undefined;
  let stall!: (err: ReadStalledError) => void;
  const stalled = new Promise<never>((_, reject) => {
    stall = reject;
  });
  const progress = (step: string) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      abandoned = true;
      messages?.stop();
      stall(
        new ReadStalledError(
          `reading ${filter} from ${EVENTS_STREAM} stalled: nothing for ${stallMs} ms after ${step} (${stats.events} events read)`,
        ),
      );
    }, stallMs);
  };

  const read = async (): Promise<ReadStats> => {
    progress('the start');
    const info = await jsm.streams.info(EVENTS_STREAM);
    const until = info.state.last_seq;
    if (info.state.messages === 0 || abandoned) return stats;
    progress('the stream info');
    const c = await js.consumers.get(EVENTS_STREAM, { filter_subjects: filter });
    // Given up meanwhile: the cleanup in `finally` has run, so this consumer is ours to drop.
    if (abandoned) return dropLate(c, undefined, stats);
    consumer = c;
    const ci = await c.info(true);
    if (ci.num_pending === 0 || abandoned) return stats;
    progress('the consumer info');
    const msgs = await c.consume({ max_messages: READ_BATCH });
    if (abandoned) return dropLate(c, msgs, stats);
    messages = msgs;
    for await (const m of msgs) {
      if (abandoned) break;
      progress(`stream seq ${m.seq}`);
      take(m, stats, onEvent, logger);
      if (m.seq >= until || m.info.pending === 0) {
        msgs.stop();
        break;
      }
    }
    return stats;
  };

  const reading = read();
  // Once the race is lost nobody awaits the read; its late failure is expected.
  reading.catch(() => undefined);
  try {
    return await Promise.race([reading, stalled]);
  } finally {
    clearTimeout(timer);
    abandoned = true;
    messages?.stop();
    // Best effort and not awaited: after a stall the server that held it may be gone,
    // and an ordered consumer is ephemeral (the server drops it when inactive).
    void consumer?.delete().catch(() => undefined);
  }
}

/** A consumer (and its pull) that came back after the read was given up: stop and drop it. */
function dropLate(consumer: Consumer, messages: ConsumerMessages | undefined, stats: ReadStats): ReadStats {
  messages?.stop();
  void consumer.delete().catch(() => undefined);
  return stats;
}

function take(m: JsMsg, stats: ReadStats, onEvent: (event: WaEvent, streamSeq: number) => void, logger: Logger): void {
  stats.lastStreamSeq = m.seq;
  if (isFenceMarker(m.headers)) {
    stats.markers++;
    return;
  }
  const event = parseEvent(m.data);
  if (event instanceof WaError) {
    stats.invalid++;
    logger.error(
      { streamSeq: m.seq, subject: m.subject, err: event.message },
      'skipping a message in WA_EVENTS that is not a valid event',
    );
    return;
  }
  if (m.subject !== evtSubject(event.account, event.type)) {
    stats.invalid++;
    logger.error(
      { streamSeq: m.seq, subject: m.subject },
      'skipping an event whose subject does not match its account and type',
    );
    return;
  }
  stats.events++;
  onEvent(event, m.seq);
}
