/**
 * `Nats-Msg-Id` of an event: `<account>:<seq>`.
 *
 * Why account+seq and not the fact's own id: a publisher assigns `seq` once, when it
 * records the fact, and every retry (timeout, NATS restart, replay of the offline
 * buffer) re-sends the same bytes with the same seq, so JetStream drops the repeat
 * within the stream's duplicate window. Facts have no common id of their own
 * (transitions have none; one send id yields queued, sent and acked events).
 *
 * Why not the type as well: two *different* facts with the same account and seq can
 * only come from two writers for one account. Leaving the type out makes the server
 * report the second as a duplicate instead of storing both, so the collision
 * surfaces at the publisher (`PubAck.duplicate` for a fact it never sent before).
 */
import { assertAccountId } from './subjects.js';

export function eventMsgId(account: string, seq: number): string {
  assertAccountId(account);
  if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError(`event seq must be a positive integer, got ${seq}`);
  return `${account}:${seq}`;
}
