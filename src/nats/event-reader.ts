/**
 * Reads `WA_EVENTS` from the start, in stream order, through an ordered (ephemeral,
 * unacknowledged) consumer: how projections are rebuilt on start and on takeover.
 * Fence markers are skipped; a message that is not a valid event is skipped and
 * reported (the stream may hold what an older or broken writer put there, and one bad
 * message must not stop a gateway from starting).
 */
import { type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { EVENTS_STREAM, evtSubject, isFenceMarker, parseEvent, WaError, type WaEvent } from '../contract/index.js';

export type ReadStats = { events: number; markers: number; invalid: number; lastStreamSeq: number };

/** Messages a read asks for at once; large enough that a 100k-event rebuild is a few hundred pulls. */
const READ_BATCH = 1000;

/**
 * Calls `onEvent` for every event on `filter` up to the stream's last sequence as it
 * was when the read began; later messages are left to the live path.
 */
export async function readEvents(
  js: JetStreamClient,
  jsm: JetStreamManager,
  filter: string,
  onEvent: (event: WaEvent, streamSeq: number) => void,
  logger: Logger,
): Promise<ReadStats> {
  const stats: ReadStats = { events: 0, markers: 0, invalid: 0, lastStreamSeq: 0 };
  const info = await jsm.streams.info(EVENTS_STREAM);
  const until = info.state.last_seq;
  if (info.state.messages === 0) return stats;

  const consumer = await js.consumers.get(EVENTS_STREAM, { filter_subjects: filter });
  try {
    const ci = await consumer.info(true);
    if (ci.num_pending === 0) return stats;
    const messages = await consumer.consume({ max_messages: READ_BATCH });
    for await (const m of messages) {
      take(m, stats, onEvent, logger);
      if (m.seq >= until || m.info.pending === 0) {
        messages.stop();
        break;
      }
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
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
    logger.error({ streamSeq: m.seq, subject: m.subject, err: event.message }, 'skipping a message in WA_EVENTS that is not a valid event');
    return;
  }
  if (m.subject !== evtSubject(event.account, event.type)) {
    stats.invalid++;
    logger.error({ streamSeq: m.seq, subject: m.subject }, 'skipping an event whose subject does not match its account and type');
    return;
  }
  stats.events++;
  onEvent(event, m.seq);
}
