/**
 * Command requests (`wa.cmd.<account>.<verb>`, `wa.cmd.accounts.<verb>`) and their
 * decoding at the edge. `decodeCommand` is the only way a request enters the
 * gateway: it never throws, and what it returns is either a normalised command the
 * runtime can trust or a `WaError` to send back as the reply.
 *
 * Request objects are strict: an unknown field is a `bad_request`, because a
 * misspelt optional field (`dedline`) silently ignored would be worse than an error.
 */
import { z } from 'zod';
import { contentVariants, type SendContent, type SendContentInput } from './content.js';
import { WaError } from './errors.js';
import { describeIssues } from './events.js';
import { accountIdSchema, isoTimeSchema, sendIdSchema } from './fields.js';
import { normalisePhone, normaliseRecipient } from './jid.js';
import { presenceRequestSchema, readRequestSchema, type ChatState } from './groups.js';
import { type AccountVerb, type FleetVerb, parseCmdSubject, type WebhookVerb } from './subjects.js';
import { WEBHOOK_ID_PATTERN, webhookEndpointSchema, type WebhookEndpointConfig } from './webhooks.js';

/**
 * Whole request, checked before parsing so a huge payload costs nothing. Twice the
 * text limit leaves room for JSON escaping and the other fields.
 */
export const MAX_COMMAND_BYTES = 128 * 1024;
/** UTF-8 bytes of a text message; WhatsApp clients cap text at 65,536 characters. */
export const MAX_TEXT_BYTES = 64 * 1024;
/** Dates beyond this are not representable by `Date` (ECMA-262 time value range). */
const MAX_EPOCH_MS = 8.64e15;

export const KEEPALIVE_STRATEGIES = ['ping', 'presence', 'both', 'off'] as const;
export type KeepaliveStrategy = (typeof KEEPALIVE_STRATEGIES)[number];

const sendEnvelope = {
  /** Idempotency key; the gateway generates one when absent. */
  id: sendIdSchema.optional(),
  /** E.164 number, user JID, LID or group JID; normalised to a JID. */
  to: z.string().min(1).max(256),
  /** Absolute: ISO time with offset, or epoch milliseconds. After it a held send expires. */
  deadline: z.union([isoTimeSchema, z.number().int().positive().max(MAX_EPOCH_MS)]).optional(),
};

/**
 * One request per kind (content.ts), each strict; a request without `kind` is text, so
 * `{ to, text }` means what it always meant.
 */
export const sendRequestSchema = z.preprocess(
  (json) =>
    typeof json === 'object' && json !== null && !Array.isArray(json) && !('kind' in json)
      ? { ...json, kind: 'text' }
      : json,
  z.discriminatedUnion(
    'kind',
    contentVariants.map((v) => v.extend(sendEnvelope).strict()) as unknown as [
      ReturnType<(typeof contentVariants)[0]['extend']>,
    ],
  ),
);

/** A send request as a client writes it. */
export type SendRequest = {
  id?: string;
  to: string;
  deadline?: string | number;
} & SendContentInput;

const emptyRequestSchema = z.object({}).strict();

export const pairRequestSchema = z
  .object({
    /** With a phone number the gateway asks for a pairing code instead of a QR. */
    phone: z.string().min(1).max(32).optional(),
  })
  .strict();

export const accountsAddRequestSchema = z
  .object({
    account: accountIdSchema,
    keepalive: z.enum(KEEPALIVE_STRATEGIES).exactOptional(),
    /** Start connecting right away (default true). */
    connect: z.boolean().exactOptional(),
  })
  .strict();

export const accountsRemoveRequestSchema = z.object({ account: accountIdSchema }).strict();

const webhookIdSchema = z.string().regex(WEBHOOK_ID_PATTERN, `expected ${WEBHOOK_ID_PATTERN.source}`);
export const webhooksRemoveRequestSchema = z.object({ id: webhookIdSchema }).strict();
/** From a `WA_EVENTS` sequence (a dead letter's `streamSeq`) or a time; exactly one. */
export const webhooksReplayRequestSchema = z
  .object({
    id: webhookIdSchema,
    fromSeq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).exactOptional(),
    fromTime: z.union([isoTimeSchema, z.number().int().positive().max(MAX_EPOCH_MS)]).exactOptional(),
  })
  .strict()
  .refine((r) => (r.fromSeq === undefined) !== (r.fromTime === undefined), {
    message: 'give exactly one of fromSeq and fromTime',
  });

/** What a client sends, per verb (input side: before normalisation). */
export type RequestOf = {
  send: SendRequest;
  status: Record<string, never>;
  connect: Record<string, never>;
  disconnect: Record<string, never>;
  logout: Record<string, never>;
  pair: z.input<typeof pairRequestSchema>;
  groups: Record<string, never>;
  read: z.input<typeof readRequestSchema>;
  presence: z.input<typeof presenceRequestSchema>;
  'accounts.list': Record<string, never>;
  'accounts.add': z.input<typeof accountsAddRequestSchema>;
  'accounts.remove': z.input<typeof accountsRemoveRequestSchema>;
  'webhooks.list': Record<string, never>;
  'webhooks.add': z.input<typeof webhookEndpointSchema>;
  'webhooks.remove': z.input<typeof webhooksRemoveRequestSchema>;
  'webhooks.replay': z.input<typeof webhooksReplayRequestSchema>;
};

export type SendCommand = {
  verb: 'send';
  account: string;
  id?: string;
  /** Normalised user or group JID. */
  to: string;
  content: SendContent;
  /** ISO time. */
  deadline?: string;
};
/** `chat` normalised like a send's `to`. */
export type ReadCommand = { verb: 'read'; account: string; chat: string; ids: string[] };
export type PresenceCommand = { verb: 'presence'; account: string; chat: string; state: ChatState };
export type PairCommand = { verb: 'pair'; account: string; /** digits only */ phone?: string };
export type AccountCommand = {
  verb: 'status' | 'connect' | 'disconnect' | 'logout' | 'groups';
  account: string;
};
export type AccountsListCommand = { verb: 'accounts.list' };
export type AccountsAddCommand = {
  verb: 'accounts.add';
  account: string;
  keepalive?: KeepaliveStrategy;
  connect?: boolean;
};
export type AccountsRemoveCommand = { verb: 'accounts.remove'; account: string };
export type WebhooksCommand =
  | { verb: 'webhooks.list' }
  | { verb: 'webhooks.add'; endpoint: WebhookEndpointConfig }
  | { verb: 'webhooks.remove'; id: string }
  /** `from`: a stream sequence, or an ISO time. */
  | { verb: 'webhooks.replay'; id: string; from: { seq: number } | { time: string } };

export type Command =
  | SendCommand
  | PairCommand
  | ReadCommand
  | PresenceCommand
  | AccountCommand
  | AccountsListCommand
  | AccountsAddCommand
  | AccountsRemoveCommand
  | WebhooksCommand;

export type Verb = AccountVerb | FleetVerb | WebhookVerb;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeRequest<V extends Verb>(_verb: V, body: RequestOf[V]): Uint8Array {
  return encoder.encode(JSON.stringify(body));
}

/** Decodes and normalises one request. Never throws. */
export function decodeCommand(subject: string, data: Uint8Array | string): Command | WaError {
  try {
    return decode(subject, data);
  } catch (cause) {
    // Unreachable by design (the fuzz test holds us to it); if it happens the
    // client still gets a reply and the process stays up.
    return new WaError('internal', 'could not decode command', { cause });
  }
}

function decode(subject: string, data: Uint8Array | string): Command | WaError {
  const size = typeof data === 'string' ? encoder.encode(data).byteLength : data.byteLength;
  if (size > MAX_COMMAND_BYTES) {
    return new WaError('too_large', `request is ${size} bytes; the limit is ${MAX_COMMAND_BYTES}`);
  }
  const target = parseCmdSubject(subject);
  if (target instanceof WaError) return target;

  const json = parseJson(data, size);
  if (json instanceof WaError) return json;

  if (target.scope === 'accounts') {
    const fleetVerb: FleetVerb = target.verb;
    switch (fleetVerb) {
      case 'accounts.list': {
        const r = check(emptyRequestSchema, json);
        return r instanceof WaError ? r : { verb: 'accounts.list' };
      }
      case 'accounts.add': {
        const r = check(accountsAddRequestSchema, json);
        return r instanceof WaError ? r : { verb: 'accounts.add', ...r };
      }
      case 'accounts.remove': {
        const r = check(accountsRemoveRequestSchema, json);
        return r instanceof WaError ? r : { verb: 'accounts.remove', account: r.account };
      }
      default:
        return unreachable(fleetVerb);
    }
  }

  if (target.scope === 'webhooks') return decodeWebhooks(target.verb, json);

  const { account, verb } = target;
  switch (verb) {
    case 'send':
      return decodeSend(account, json);
    case 'pair': {
      const r = check(pairRequestSchema, json);
      if (r instanceof WaError) return r;
      if (r.phone === undefined) return { verb, account };
      const phone = normalisePhone(r.phone);
      return phone instanceof WaError ? phone : { verb, account, phone };
    }
    case 'read': {
      const r = check(readRequestSchema, json);
      if (r instanceof WaError) return r;
      const chat = normaliseRecipient(r.chat);
      return chat instanceof WaError ? chat : { verb, account, chat, ids: [...new Set(r.ids)] };
    }
    case 'presence': {
      const r = check(presenceRequestSchema, json);
      if (r instanceof WaError) return r;
      const chat = normaliseRecipient(r.chat);
      return chat instanceof WaError ? chat : { verb, account, chat, state: r.state };
    }
    case 'status':
    case 'connect':
    case 'disconnect':
    case 'logout':
    case 'groups': {
      const r = check(emptyRequestSchema, json);
      return r instanceof WaError ? r : { verb, account };
    }
    default:
      return unreachable(verb);
  }
}

function decodeSend(account: string, json: unknown): SendCommand | WaError {
  const r = check(sendRequestSchema, json) as (SendContent & z.output<z.ZodObject<typeof sendEnvelope>>) | WaError;
  if (r instanceof WaError) return r;
  const { id, to: rawTo, deadline, ...content } = r;
  const text = 'text' in content ? content.text : undefined;
  const textBytes = text === undefined ? 0 : encoder.encode(text).byteLength;
  if (textBytes > MAX_TEXT_BYTES) {
    return new WaError('too_large', `text is ${textBytes} bytes; the limit is ${MAX_TEXT_BYTES}`);
  }
  const to = normaliseRecipient(rawTo);
  if (to instanceof WaError) return to;
  const cmd: SendCommand = { verb: 'send', account, to, content: content as SendContent };
  if (id !== undefined) cmd.id = id;
  if (deadline !== undefined) {
    cmd.deadline = typeof deadline === 'number' ? new Date(deadline).toISOString() : deadline;
  }
  return cmd;
}

function decodeWebhooks(verb: WebhookVerb, json: unknown): WebhooksCommand | WaError {
  switch (verb) {
    case 'webhooks.list': {
      const r = check(emptyRequestSchema, json);
      return r instanceof WaError ? r : { verb };
    }
    case 'webhooks.add': {
      const r = check(webhookEndpointSchema, json);
      return r instanceof WaError ? r : { verb, endpoint: r };
    }
    case 'webhooks.remove': {
      const r = check(webhooksRemoveRequestSchema, json);
      return r instanceof WaError ? r : { verb, id: r.id };
    }
    case 'webhooks.replay': {
      const r = check(webhooksReplayRequestSchema, json);
      if (r instanceof WaError) return r;
      if (r.fromSeq !== undefined) return { verb, id: r.id, from: { seq: r.fromSeq } };
      // ISO with any offset, or epoch ms: normalised to UTC ISO.
      return { verb, id: r.id, from: { time: new Date(r.fromTime as string | number).toISOString() } };
    }
    default:
      return unreachable(verb);
  }
}

/** An empty payload means "no arguments" so `nats req wa.cmd.a.status ''` works. */
function parseJson(data: Uint8Array | string, size: number): unknown {
  if (size === 0) return {};
  try {
    return JSON.parse(typeof data === 'string' ? data : decoder.decode(data));
  } catch (cause) {
    return new WaError('bad_request', 'request body is not UTF-8 JSON', { cause });
  }
}

function check<S extends z.ZodType>(schema: S, json: unknown): z.output<S> | WaError {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return new WaError('bad_request', 'request body must be a JSON object');
  }
  const parsed = schema.safeParse(json);
  return parsed.success
    ? parsed.data
    : new WaError('bad_request', describeIssues(parsed.error), { cause: parsed.error });
}

function unreachable(value: never): never {
  throw new Error(`unhandled verb ${String(value)}`);
}
