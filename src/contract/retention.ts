/**
 * Retention classes: which stream keeps an event (docs/architecture.md, "Retention
 * classes"). Subjects stay `wa.evt.<account>.<type>` for every event; what differs is
 * the stream that captures the subject, and so how long it is kept:
 * - `records` (`WA_EVENTS`): everything a client, consumer or the outbox depends on
 *   (`send.*`, `message.*`, `paired`, `logged_out`, dead letters, drop patterns), kept by
 *   age and size, never pushed out by keepalive churn;
 * - `liveness` (`WA_LIVENESS`): `transition`, `keepalive`, `qr`: the account's pulse,
 *   ~24 events a minute per account, kept as the last N per subject, so the last state
 *   of every account survives however old it is.
 * nats-server 2.9 has no per-message TTL and a stream cannot exclude a subject, so
 * `WA_EVENTS` lists its subjects one type at a time (`wa.evt.*.<type>`), derived here
 * from the event catalog: a type added to the catalog is a record unless listed below.
 */
import { EVENT_TYPES, type EventType } from './events.js';
import { EVENTS_STREAM, EVT_PREFIX, evtTypeFilter } from './subjects.js';

export const LIVENESS_STREAM = 'WA_LIVENESS';

/** The account's pulse: chatty, and only the recent past (and the last state) matter. */
export const LIVENESS_TYPES = ['transition', 'keepalive', 'qr'] as const satisfies readonly EventType[];

export type RetentionClass = 'records' | 'liveness';

export function retentionClass(type: string): RetentionClass {
  return (LIVENESS_TYPES as readonly string[]).includes(type) ? 'liveness' : 'records';
}

export const STREAM_OF_CLASS = {
  records: EVENTS_STREAM,
  liveness: LIVENESS_STREAM,
} as const satisfies Record<RetentionClass, string>;

/** The stream that captures `wa.evt.<account>.<type>`. */
export function streamOf(type: string): string {
  return STREAM_OF_CLASS[retentionClass(type)];
}

/** The subjects the class's stream captures: `wa.evt.*.<type>` per type of the class. */
export function classSubjects(cls: RetentionClass): string[] {
  return EVENT_TYPES.filter((t) => retentionClass(t) === cls).map((t) => evtTypeFilter(t));
}

/** What `WA_EVENTS` captured before the split (wa-connd ≤ issue 14): migrated at start. */
export const LEGACY_EVENTS_SUBJECT = `${EVT_PREFIX}.>`;
