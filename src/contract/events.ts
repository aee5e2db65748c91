/**
 * The events of `WA_EVENTS`: one JSON object per message on `wa.evt.<account>.<type>`.
 * They are the source of truth (outbox and status are projections of them), so each
 * is validated where it enters or leaves the process.
 *
 * Versioning: every event carries `v`. Adding an optional field keeps `v`; readers
 * ignore fields they do not know (zod strips them). Removing, renaming or retyping a
 * field bumps `v`, and `parseEvent` refuses versions it does not know rather than
 * guessing.
 */
import { z } from 'zod';
import {
  inboundFieldsSchema,
  messageDeletedEventSchema,
  messageEditedEventSchema,
  messageReactionEventSchema,
  sendUploadedEventSchema,
} from './message-events.js';
import { queuedContentSchema, SEND_KINDS } from './content.js';
import { WaError } from './errors.js';
import { isoTimeSchema, recipientSchema, sendIdSchema, wireErrorSchema } from './fields.js';
import { envelope, EVENT_SCHEMA_VERSION } from './event-envelope.js';
import { ACCOUNT_STATES } from './states.js';
import { ownerAcquiredEventSchema, ownerLostEventSchema, ownerReleasedEventSchema } from './owner-events.js';
import { groupParticipantsBody, receiptBody } from './groups.js';
import { accountBannedEventSchema, messageUndecryptableEventSchema } from './trouble-events.js';

export { EVENT_SCHEMA_VERSION };

const state = z.enum(ACCOUNT_STATES);

export const transitionEventSchema = z.object({
  ...envelope,
  type: z.literal('transition'),
  from: state,
  to: state,
  /** The machine event that caused it (`SocketClosed`, `PingTimedOut`, …). */
  event: z.string().min(1).max(64),
  reason: z.string().max(256).optional(),
  /** Baileys `DisconnectReason` / WhatsApp stream error code (408, 428, 440, 515 …). */
  statusCode: z.number().int().optional(),
  /**
   * With reason `unreachable` (the server was never reached; no statusCode then): the
   * network error code — ENOTFOUND, EAI_AGAIN, ECONNREFUSED, ETIMEDOUT, ECONNRESET, a TLS
   * code such as CERT_HAS_EXPIRED — or the error's message when it has no code.
   */
  cause: z.string().max(128).optional(),
});

export const sendQueuedEventSchema = z.object({
  ...envelope,
  type: z.literal('send.queued'),
  id: sendIdSchema,
  to: recipientSchema,
  /** The message kind (content.ts). */
  kind: z.enum(SEND_KINDS),
  /**
   * A plain text (kind `text`, no reply): the text travels in the event, the outbox is
   * rebuilt from the stream after a crash. Every other send carries `content` instead.
   */
  text: z.string().optional(),
  /** Every send but a plain text: the content with its media resolved to a `WA_MEDIA` object. */
  content: queuedContentSchema.optional(),
  /** With `content`: the fingerprint of the request as the client sent it (a reused id must name the same request). */
  fingerprint: z.string().max(64).optional(),
  deadline: isoTimeSchema.optional(),
});

export const sendSentEventSchema = z.object({
  ...envelope,
  type: z.literal('send.sent'),
  id: sendIdSchema,
  waMessageId: z.string().min(1).max(128),
});

export const SEND_ACKS = ['server', 'delivered', 'read'] as const;
export const sendAckedEventSchema = z.object({
  ...envelope,
  type: z.literal('send.acked'),
  id: sendIdSchema,
  ack: z.enum(SEND_ACKS),
});

export const sendFailedEventSchema = z.object({
  ...envelope,
  type: z.literal('send.failed'),
  id: sendIdSchema,
  error: wireErrorSchema,
  /**
   * Whether sending the same content again later (as a new send) may succeed. The gateway
   * itself never sends a failed send again; `false` means: do not try again (463: each
   * attempt deepens a reach-out restriction). Present when WhatsApp or Baileys refused the
   * send; absent for other failures (logged out, account removed) and older events.
   */
  retryable: z.boolean().optional(),
  /** WhatsApp's refusal, when the server refused it (error ack): its code, e.g. 463, 479. */
  statusCode: z.number().int().optional(),
  /** The refusal by name (src/baileys/refusals.ts): `reachOutRestricted`, `invalidStanza` … */
  reason: z.string().max(64).optional(),
});

export const sendExpiredEventSchema = z.object({
  ...envelope,
  type: z.literal('send.expired'),
  id: sendIdSchema,
});

export const messageInEventSchema = z.object({
  ...envelope,
  type: z.literal('message.in'),
  waMessageId: z.string().min(1).max(128),
  /** Sender's JID; in groups the participant, otherwise equal to `chat`. */
  from: z.string().min(1).max(128),
  chat: z.string().min(1).max(128),
  /** Group messages only: the participant who wrote (the same JID as `from`). */
  participant: z.string().min(1).max(128).optional(),
  text: z.string().optional(),
  /** WhatsApp's own message time (not receipt time), as ISO. */
  timestamp: isoTimeSchema,
  ...inboundFieldsSchema.shape,
});

export const receiptEventSchema = z.object({ ...envelope, ...receiptBody });
export const groupParticipantsEventSchema = z.object({ ...envelope, ...groupParticipantsBody });

export const qrEventSchema = z.object({
  ...envelope,
  type: z.literal('qr'),
  qr: z.string().min(1),
});

export const pairedEventSchema = z.object({
  ...envelope,
  type: z.literal('paired'),
  jid: z.string().optional(),
});

export const loggedOutEventSchema = z.object({
  ...envelope,
  type: z.literal('logged_out'),
  statusCode: z.number().int().optional(),
});

export const dropPatternEventSchema = z.object({
  ...envelope,
  type: z.literal('drop.pattern'),
  periodMs: z.number().int().positive(),
  confidence: z.number().min(0).max(1),
  /** How many drops the period was estimated from. */
  samples: z.number().int().min(2),
});

/**
 * One application-level keepalive probe and its outcome. Published because `status`
 * reports keepalive stats and status is a projection of the stream: without RTTs in
 * the stream a restart would forget them. `stalled` = the deadline passed while the
 * event loop was blocked, so the probe was repeated instead of the link declared dead.
 */
export const KEEPALIVE_PROBES = ['ping', 'presence'] as const;
export const KEEPALIVE_OUTCOMES = ['ok', 'timeout', 'stalled'] as const;
export const keepaliveEventSchema = z.object({
  ...envelope,
  type: z.literal('keepalive'),
  probe: z.enum(KEEPALIVE_PROBES),
  outcome: z.enum(KEEPALIVE_OUTCOMES),
  rttMs: z.number().min(0).optional(),
  /** Max event-loop delay seen while the probe was out. */
  loopDelayMs: z.number().min(0).optional(),
});

/**
 * A webhook endpoint gave up on one event (docs/webhooks.md, "Dead letters"): the
 * retry budget ran out or the receiver refused it (4xx other than 408/429). Delivery
 * of the endpoint's later events went on; `replay` from `streamSeq` sends it again.
 */
export const webhookDeadLetteredEventSchema = z.object({
  ...envelope,
  type: z.literal('webhook.dead_lettered'),
  endpoint: z.string().min(1).max(64),
  /** `WA_EVENTS` sequence of the event given up on: where a replay starts. */
  streamSeq: z.number().int().min(1),
  eventType: z.string().min(1).max(64),
  eventSeq: z.number().int().min(1),
  attempts: z.number().int().min(1),
  /** The last HTTP status, when the receiver answered at all. */
  status: z.number().int().optional(),
  /** Short cause: `http 400`, `timeout`, `ECONNRESET` … never the receiver's body. */
  reason: z.string().max(256),
});

export const waEventSchema = z.discriminatedUnion('type', [
  transitionEventSchema,
  sendQueuedEventSchema,
  sendSentEventSchema,
  sendAckedEventSchema,
  sendFailedEventSchema,
  sendExpiredEventSchema,
  sendUploadedEventSchema,
  messageInEventSchema,
  messageReactionEventSchema,
  messageEditedEventSchema,
  messageDeletedEventSchema,
  receiptEventSchema,
  groupParticipantsEventSchema,
  messageUndecryptableEventSchema,
  accountBannedEventSchema,
  qrEventSchema,
  pairedEventSchema,
  loggedOutEventSchema,
  dropPatternEventSchema,
  keepaliveEventSchema,
  webhookDeadLetteredEventSchema,
  ownerAcquiredEventSchema,
  ownerReleasedEventSchema,
  ownerLostEventSchema,
]);

export type WaEvent = z.infer<typeof waEventSchema>;
export type EventType = WaEvent['type'];
export type EventOf<T extends EventType> = Extract<WaEvent, { type: T }>;
type EnvelopeKey = 'v' | 'account' | 'type' | 'at' | 'seq';
/** What a producer supplies; the envelope is added by `makeEvent`. */
export type EventBody<T extends EventType> = Omit<EventOf<T>, EnvelopeKey>;

export const EVENT_TYPES = [
  'transition',
  'send.queued',
  'send.sent',
  'send.acked',
  'send.failed',
  'send.expired',
  'send.uploaded',
  'message.in',
  'message.reaction',
  'message.edited',
  'message.deleted',
  'receipt',
  'group.participants',
  'message.undecryptable',
  'account.banned',
  'qr',
  'paired',
  'logged_out',
  'drop.pattern',
  'keepalive',
  'webhook.dead_lettered',
  'owner.acquired',
  'owner.released',
  'owner.lost',
] as const satisfies readonly EventType[];

// Compile-time check that EVENT_TYPES lists every member of the union.
type Missing = Exclude<EventType, (typeof EVENT_TYPES)[number]>;
const allTypesListed: Missing extends never ? true : Missing = true;
void allTypesListed;

/**
 * Every event type is one of two classes (docs/architecture.md, "Buffering while NATS is
 * away"). A *record* is a promise made to a client (`send.*`) or something a consumer
 * must get (`message.in`, `receipt`, `group.participants`, `paired`, `logged_out`): never evicted. *Observability* explains
 * what happened (`transition`, `keepalive`, `qr`, `drop.pattern`), and a reconnect storm
 * makes thousands of it: evicted first when the offline buffer is full.
 */
export const EVENT_CLASS = {
  transition: 'observability',
  'send.queued': 'record',
  'send.sent': 'record',
  'send.acked': 'record',
  'send.failed': 'record',
  'send.expired': 'record',
  // A record: losing it would upload a replayed media send twice.
  'send.uploaded': 'record',
  'message.in': 'record',
  'message.reaction': 'record',
  'message.edited': 'record',
  'message.deleted': 'record',
  receipt: 'record',
  'group.participants': 'record',
  // A record: the only trace of a message until (and unless) its retry decrypts.
  'message.undecryptable': 'record',
  // A record: an operator must learn of a ban even after a reconnect storm.
  'account.banned': 'record',
  qr: 'observability',
  paired: 'record',
  logged_out: 'record',
  'drop.pattern': 'observability',
  keepalive: 'observability',
  // A record: the operator's only trace of an event a receiver never got.
  'webhook.dead_lettered': 'record',
  // Records: who wrote the account when is the audit trail of a failover.
  'owner.acquired': 'record',
  'owner.released': 'record',
  'owner.lost': 'record',
} as const satisfies Record<EventType, 'record' | 'observability'>;

export type RecordEventType = { [T in EventType]: (typeof EVENT_CLASS)[T] extends 'record' ? T : never }[EventType];

export function isRecordType(type: EventType): type is RecordEventType {
  return EVENT_CLASS[type] === 'record';
}

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}

export type Envelope = { account: string; seq: number; at: Date | string };

export function makeEvent<T extends EventType>(type: T, env: Envelope, body: EventBody<T>): EventOf<T> {
  const at = typeof env.at === 'string' ? env.at : env.at.toISOString();
  return { ...body, v: EVENT_SCHEMA_VERSION, account: env.account, type, at, seq: env.seq } as EventOf<T>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeEvent(event: WaEvent): Uint8Array {
  return encoder.encode(JSON.stringify(event));
}

/** Never throws: a stream may hold anything a misbehaving publisher put there. */
export function parseEvent(input: string | Uint8Array): WaEvent | WaError {
  let json: unknown;
  try {
    json = JSON.parse(typeof input === 'string' ? input : decoder.decode(input));
  } catch (cause) {
    return new WaError('bad_request', 'event is not UTF-8 JSON', { cause });
  }
  if (typeof json === 'object' && json !== null && 'v' in json && json.v !== EVENT_SCHEMA_VERSION) {
    return new WaError('bad_request', `unsupported event schema version ${String(json.v)}`);
  }
  const parsed = waEventSchema.safeParse(json);
  if (!parsed.success) return new WaError('bad_request', describeIssues(parsed.error), { cause: parsed.error });
  return parsed.data;
}

/** First few zod issues as "path: message"; enough to fix a request, short enough for a reply. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
