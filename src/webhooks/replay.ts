/**
 * `webhooks.replay`: sends an endpoint's events again from a stream sequence or a
 * time up to the stream's last sequence when asked, through a pipeline of its own
 * (same filters, signing and `webhook-id`s, so a receiver deduplicates what it already
 * has). It reads with an ordered consumer, so it leaves the endpoint's durable
 * position alone, and holds at most MAX_HELD events at a time.
 */
import { DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { EVENTS_STREAM, evtFilter, isFenceMarker, parseEvent, WaError, type WaEvent } from '../contract/index.js';
import { sleep } from '../nats/waiting.js';
import type { Pipeline } from './pipeline.js';

/** Events fetched per request while replaying. */
const REPLAY_BATCH = 256;
/** How long a fetch waits for messages before it is asked again (the range is known to exist). */
const FETCH_EXPIRES_MS = 2_000;
/** While the pipeline is full, how often room is checked: a replay is a bulk job, a few ms do not matter. */
const ROOM_CHECK_MS = 20;

export type ReplayFrom = { seq: number } | { time: string };

export type ReplayOptions = {
  js: JetStreamClient;
  jsm: JetStreamManager;
  wants: (event: WaEvent) => boolean;
  pipeline: Pipeline;
  maxHeld: number;
  signal: AbortSignal;
  logger: Logger;
};

/** Resolves once the range is known (first and last stream sequence); the replay goes on in the background. */
export async function startReplay(o: ReplayOptions, from: ReplayFrom): Promise<{ fromSeq: number; toSeq: number }> {
  const toSeq = (await o.jsm.streams.info(EVENTS_STREAM)).state.last_seq;
  const start =
    'seq' in from
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from.seq }
      : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: from.time };
  const consumer = await o.js.consumers.get(EVENTS_STREAM, { filter_subjects: evtFilter(), ...start });
  // Never more than the range holds: a fetch asking for more waits out its expiry.
  const fetch = async (after: number): Promise<JsMsg[]> => {
    const out: JsMsg[] = [];
    const max = Math.min(REPLAY_BATCH, toSeq - after);
    if (max <= 0) return out;
    for await (const m of await consumer.fetch({ max_messages: max, expires: FETCH_EXPIRES_MS })) out.push(m);
    return out;
  };
  const firstMsg = 'seq' in from ? null : await consumer.next({ expires: FETCH_EXPIRES_MS });
  const first = firstMsg ? [firstMsg] : 'seq' in from ? await fetch(from.seq - 1) : [];
  const fromSeq = first[0]?.seq ?? toSeq + 1;
  if (fromSeq > toSeq) return { fromSeq: 'seq' in from ? from.seq : fromSeq, toSeq };
  const log = o.logger.child({ fromSeq, toSeq });
  log.info('webhook replay started');
  void (async () => {
    let batch = first;
    let last = 0;
    try {
      while (!o.signal.aborted) {
        for (const m of batch) {
          last = m.seq;
          if (m.seq > toSeq) break;
          if (isFenceMarker(m.headers)) continue;
          const event = parseEvent(m.data);
          if (event instanceof WaError || !o.wants(event)) continue;
          while (o.pipeline.size >= o.maxHeld && !o.signal.aborted) await sleep(ROOM_CHECK_MS, o.signal);
          o.pipeline.push({ streamSeq: m.seq, event, done: () => undefined });
        }
        if (last >= toSeq) break;
        batch = await fetch(last);
        // Nothing more within the wait: the rest of the range is gone (max age, purge).
        if (batch.length === 0) break;
      }
      log.info({ lastSeq: last }, 'webhook replay read');
    } catch (err) {
      log.error({ err }, 'webhook replay stopped');
    } finally {
      await consumer.delete().catch(() => undefined);
    }
  })();
  return { fromSeq, toSeq };
}
