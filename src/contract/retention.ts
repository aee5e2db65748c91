/**
 * Retention classes (docs/architecture.md, "Retention classes"). Every event stays on
 * `wa.evt.<account>.<type>` in `WA_EVENTS`; what differs is how long it is kept:
 * - `records`: everything a client, a consumer or the outbox depends on (`send.*`,
 *   `message.*`, `paired`, `logged_out`, dead letters, drop patterns): kept by the
 *   stream's age and size limits, never trimmed for being many;
 * - `liveness`: `transition`, `keepalive`, `qr`, the account's pulse (~24 events a minute
 *   per account from keepalive cycles alone): the writer trims each of these subjects to
 *   its last `livenessPerSubject` messages (src/nats/liveness-trim.ts), so the last state
 *   of every account survives and their volume is bounded by a count, not a rate.
 * Each class has its own per-account `seq` (gapless within the class), so a reader checks
 * records for gaps while liveness is trimmed under it.
 * A type added to the catalog is a record unless listed here.
 */
import type { EventType } from './events.js';

/** The account's pulse: chatty, and only the recent past (and the last state) matter. */
export const LIVENESS_TYPES = ['transition', 'keepalive', 'qr'] as const satisfies readonly EventType[];

export type RetentionClass = 'records' | 'liveness';

export function retentionClass(type: string): RetentionClass {
  return (LIVENESS_TYPES as readonly string[]).includes(type) ? 'liveness' : 'records';
}
