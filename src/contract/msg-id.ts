/**
 * `Nats-Msg-Id` of an event: `<account>:<writer>:<seq>` for a record,
 * `<account>:<writer>:l<seq>` for a liveness event (transition, keepalive, qr): each
 * retention class has its own seq (retention.ts), so the two must not share ids, or
 * JetStream would drop one class's event as a duplicate of the other's.
 *
 * - `seq` is assigned once, when the writer records the fact; every retry (lost ack,
 *   NATS restart, replay of the offline buffer) re-sends the same bytes under the same
 *   id, so JetStream drops the repeat within the stream's duplicate window and acks
 *   it with `duplicate: true` and the original stream sequence.
 * - `writer` is the writer's fencing epoch (one per takeover, see fence.ts). With it, a
 *   `duplicate` ack always means "my own earlier attempt was stored", never "another
 *   writer used this seq": a competing writer's publish reaches the expected-sequence
 *   check and fails there with an error instead. Without it the two cases look
 *   alike (verified in test/nats/fencing.int.test.ts).
 * - Facts have no common id of their own (transitions have none; one send id yields
 *   queued, sent and acked), so the id is not derived from the payload.
 */
import type { RetentionClass } from './retention.js';
import { assertAccountId } from './subjects.js';

/** Writer epochs travel in msg ids and headers: keep them one plain token. */
export const WRITER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function eventMsgId(account: string, writer: string, seq: number, cls: RetentionClass = 'records'): string {
  assertAccountId(account);
  if (!WRITER_ID_PATTERN.test(writer)) throw new RangeError(`writer id must match ${WRITER_ID_PATTERN.source}`);
  if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError(`event seq must be a positive integer, got ${seq}`);
  return `${account}:${writer}:${cls === 'liveness' ? 'l' : ''}${seq}`;
}
