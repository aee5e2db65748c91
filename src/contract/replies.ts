/**
 * Replies to commands: `{ ok: true, … }` or `{ ok: false, error: { code, message } }`.
 * Schemas as well as types, so the typed client can validate what it receives the
 * same way the service validates what it is sent.
 */
import { z } from 'zod';
import { WaError } from './errors.js';
import { describeIssues } from './events.js';
import { accountIdSchema, isoTimeSchema, sendIdSchema, wireErrorSchema } from './fields.js';
import { ACCOUNT_STATES } from './states.js';
import type { Verb } from './commands.js';
import { groupsReplySchema, presenceReplySchema, readReplySchema } from './groups.js';

export const errorReplySchema = z.object({ ok: z.literal(false), error: wireErrorSchema });

/**
 * Where a send stands, as the event stream records it. A new send is always `queued`;
 * an idempotent repeat (same id) reports how far the first one got: `sent` (handed to
 * WhatsApp), `acked` (WhatsApp acknowledged it), `failed` (with `error`) or `expired`
 * (its deadline passed while it was held).
 */
export const SEND_STATUSES = ['queued', 'sent', 'acked', 'failed', 'expired'] as const;
export type SendStatus = (typeof SEND_STATUSES)[number];

export const sendReplySchema = z.object({
  ok: z.literal(true),
  id: sendIdSchema,
  status: z.enum(SEND_STATUSES),
  /** Per-account event seq of the `send.queued` that recorded it. */
  seq: z.number().int().min(1),
  /** Only with `status: "failed"`: why, as `send.failed` recorded it. */
  error: wireErrorSchema.optional(),
});

/** Enough to see a 408 loop in a `status` reply without paging through events. */
export const MAX_DISCONNECTS = 10;

export const statusReplySchema = z.object({
  ok: z.literal(true),
  account: accountIdSchema,
  state: z.enum(ACCOUNT_STATES),
  since: isoTimeSchema,
  /** Most recent first, at most MAX_DISCONNECTS. */
  lastDisconnects: z.array(
    z.object({
      at: isoTimeSchema,
      statusCode: z.number().int().optional(),
      reason: z.string().optional(),
      cause: z.string().optional(),
    }),
  ),
  outbox: z.object({ depth: z.number().int().min(0) }),
  keepalive: z.object({
    lastRttMs: z.number().min(0).nullable(),
    lastAt: isoTimeSchema.nullable(),
    timeouts: z.number().int().min(0),
  }),
  /** With leases (docs/scaling.md): the gateway process writing the account, from its `owner.acquired`. */
  owner: z.object({ writer: z.string(), host: z.string(), pid: z.number().int(), since: isoTimeSchema }).optional(),
});

/** connect, disconnect, logout: the state the account is in after the command took effect. */
export const stateReplySchema = z.object({
  ok: z.literal(true),
  account: accountIdSchema,
  state: z.enum(ACCOUNT_STATES),
});

export const pairReplySchema = z.object({
  ok: z.literal(true),
  account: accountIdSchema,
  /** `qr`: watch `wa.evt.<account>.qr`; `code`: type `code` on the phone. */
  method: z.enum(['qr', 'code']),
  code: z.string().optional(),
});

export const accountsListReplySchema = z.object({
  ok: z.literal(true),
  accounts: z.array(z.object({ account: accountIdSchema, state: z.enum(ACCOUNT_STATES) })),
});

export const accountsChangeReplySchema = z.object({ ok: z.literal(true), account: accountIdSchema });

export const webhookInfoSchema = z.object({
  id: z.string(),
  url: z.string(),
  accounts: z.array(accountIdSchema).optional(),
  types: z.array(z.string()).optional(),
  /** `config`: from the config file (not removable at run time); `runtime`: added with `webhooks.add`. */
  source: z.enum(['config', 'runtime']),
  /** Events queued or in flight now. */
  held: z.number().int().min(0),
});

export const webhooksListReplySchema = z.object({ ok: z.literal(true), endpoints: z.array(webhookInfoSchema) });
export const webhooksChangeReplySchema = z.object({ ok: z.literal(true), id: z.string() });
/** The replay runs after the reply: stream sequences `fromSeq`..`toSeq` (the last one when it was asked for). */
export const webhooksReplayReplySchema = z.object({
  ok: z.literal(true),
  id: z.string(),
  fromSeq: z.number().int().min(0),
  toSeq: z.number().int().min(0),
});

const okSchemaByVerb = {
  send: sendReplySchema,
  status: statusReplySchema,
  connect: stateReplySchema,
  disconnect: stateReplySchema,
  logout: stateReplySchema,
  pair: pairReplySchema,
  groups: groupsReplySchema,
  read: readReplySchema,
  presence: presenceReplySchema,
  'accounts.list': accountsListReplySchema,
  'accounts.add': accountsChangeReplySchema,
  'accounts.remove': accountsChangeReplySchema,
  'webhooks.list': webhooksListReplySchema,
  'webhooks.add': webhooksChangeReplySchema,
  'webhooks.remove': webhooksChangeReplySchema,
  'webhooks.replay': webhooksReplayReplySchema,
} as const satisfies Record<Verb, z.ZodType>;

export type ErrorReplyBody = z.infer<typeof errorReplySchema>;
export type OkReplyOf<V extends Verb> = z.infer<(typeof okSchemaByVerb)[V]>;
export type ReplyOf<V extends Verb> = OkReplyOf<V> | ErrorReplyBody;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeReply(reply: { ok: boolean }): Uint8Array {
  return encoder.encode(JSON.stringify(reply));
}

/**
 * Client side: a success reply, or the server's error as a `WaError`; a reply that
 * fits neither is `internal` (a server bug, not the caller's).
 */
export function decodeReply<V extends Verb>(verb: V, data: Uint8Array | string): OkReplyOf<V> | WaError {
  let json: unknown;
  try {
    json = JSON.parse(typeof data === 'string' ? data : decoder.decode(data));
  } catch (cause) {
    return new WaError('internal', 'reply is not UTF-8 JSON', { cause });
  }
  const err = errorReplySchema.safeParse(json);
  if (err.success) return new WaError(err.data.error.code, err.data.error.message);
  const ok = okSchemaByVerb[verb].safeParse(json);
  if (!ok.success) return new WaError('internal', `malformed ${verb} reply: ${describeIssues(ok.error)}`);
  return ok.data as OkReplyOf<V>;
}
