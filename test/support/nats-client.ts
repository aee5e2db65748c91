/** What an outside NATS client does in the tests: send a command, read the event stream back and check it. */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  EVENTS_STREAM,
  evtFilter,
  isFenceMarker,
  parseEvent,
  retentionClass,
  WaError,
  type WaEvent,
} from '../../src/contract/index.js';

export type StoredEvent = { streamSeq: number; subject: string; msgId: string | undefined; event: WaEvent };
export type StreamDump = { events: StoredEvent[]; markers: number; invalid: number };

/**
 * Reads the whole stream back as an outside client would (ordered consumer), checking
 * every message. `timeoutMs` is each JetStream API request's (a cluster under load answers
 * a consumer create slowly).
 */
export async function dumpStream(nc: NatsConnection, filter = evtFilter(), timeoutMs?: number): Promise<StreamDump> {
  const opts = timeoutMs === undefined ? {} : { timeout: timeoutMs };
  const js: JetStreamClient = jetstream(nc, opts);
  const jsm: JetStreamManager = await jetstreamManager(nc, opts);
  const out: StreamDump = { events: [], markers: 0, invalid: 0 };
  const info = await jsm.streams.info(EVENTS_STREAM);
  if (info.state.messages === 0) return out;
  const c = await js.consumers.get(EVENTS_STREAM, { filter_subjects: filter });
  if ((await c.info(true)).num_pending === 0) return out;
  const msgs = await c.consume();
  for await (const m of msgs) {
    if (isFenceMarker(m.headers)) out.markers++;
    else {
      const e = parseEvent(m.data);
      if (e instanceof WaError) out.invalid++;
      else out.events.push({ streamSeq: m.seq, subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id'), event: e });
    }
    if (m.info.pending === 0) break;
  }
  return out;
}

/**
 * Per account and retention class (records, liveness: a seq each): seqs 1..n without gap
 * or repeat, and every msg id unique. Returns the last record seq per account. With
 * `trimmed` (liveness beyond `livenessPerSubject` purged), liveness seqs need only increase.
 */
export function checkSequences(events: StoredEvent[], trimmed = false): Map<string, number> {
  const last = new Map<string, number>();
  const lastLiveness = new Map<string, number>();
  const ids = new Set<string>();
  for (const { event, msgId } of events) {
    const live = retentionClass(event.type) === 'liveness';
    const seen = live ? lastLiveness : last;
    const before = seen.get(event.account);
    const expected = (before ?? 0) + 1;
    // Trimmed liveness: older transitions and keepalives go per subject, so only the order holds.
    const ok = live && trimmed ? event.seq > (before ?? 0) : event.seq === expected;
    if (!ok)
      throw new Error(`${event.account}: ${live ? 'liveness ' : ''}seq ${event.seq} where ${expected} was expected`);
    seen.set(event.account, event.seq);
    if (!msgId || ids.has(msgId)) throw new Error(`msg id ${msgId} missing or repeated`);
    ids.add(msgId);
  }
  return last;
}

/** Sends one command as a client would and returns the parsed JSON reply. */
export async function request(
  nc: NatsConnection,
  subject: string,
  body?: unknown,
  timeoutMs = 5_000,
): Promise<Record<string, unknown> & { ok: boolean }> {
  const payload =
    body === undefined
      ? new Uint8Array()
      : typeof body === 'string' || body instanceof Uint8Array
        ? body
        : JSON.stringify(body);
  const m = await nc.request(subject, payload, { timeout: timeoutMs });
  return m.json();
}
