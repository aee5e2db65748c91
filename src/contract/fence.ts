/**
 * Writer fencing on nats-server 2.9 (see docs/architecture.md, "Fencing one writer
 * per account"). 2.9 checks `Nats-Expected-Last-Subject-Sequence` against the exact
 * subject of the publish only, and an account's events live on one subject per
 * type. So a writer taking over an account first publishes a *fence marker* on every
 * event subject of that account; every later publish of any writer carries the
 * expected last sequence of its own subject, and a stale writer's expectation is
 * wrong on all of them.
 *
 * A marker is header-only: `Wa-Fence: <epoch>` and an empty body. It is not an
 * event; consumers skip messages that carry this header.
 */
import { EVENT_TYPES } from './events.js';
import { evtSubject } from './subjects.js';

export const FENCE_HEADER = 'Wa-Fence';

/** Every subject a takeover must advance: one per event type of the account. */
export function fenceSubjects(account: string): string[] {
  return EVENT_TYPES.map((type) => evtSubject(account, type));
}

/** Works with nats.js `MsgHdrs` or anything with a `has`. */
export function isFenceMarker(headers: { has(key: string): boolean } | undefined): boolean {
  return headers?.has(FENCE_HEADER) ?? false;
}
