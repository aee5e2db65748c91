/**
 * Groups, read receipts and chat state (issue 14): the requests of `groups`, `read` and
 * `presence`, their replies, and the bodies of the `receipt` and `group.participants`
 * events. events.ts, commands.ts and replies.ts put these in their catalogs.
 */
import { z } from 'zod';
import { accountIdSchema, recipientSchema, sendIdSchema } from './fields.js';

/** Ids per `read` request: a chat screen's worth; WhatsApp batches receipts the same way. */
export const MAX_READ_IDS = 256;

const waMessageIdSchema = z.string().min(1).max(128);
const jid = z.string().min(1).max(128);

export const readRequestSchema = z
  .object({
    /** The chat the messages are in (user or group JID, or E.164). */
    chat: z.string().min(1).max(256),
    /** WhatsApp message ids (`message.in`'s `waMessageId`). */
    ids: z.array(waMessageIdSchema).min(1).max(MAX_READ_IDS),
  })
  .strict();

export const CHAT_STATES = ['composing', 'recording', 'paused'] as const;
export type ChatState = (typeof CHAT_STATES)[number];

export const presenceRequestSchema = z
  .object({ chat: z.string().min(1).max(256), state: z.enum(CHAT_STATES) })
  .strict();

export const GROUP_ROLES = ['member', 'admin', 'superadmin'] as const;

export const groupSchema = z.object({
  jid,
  subject: z.string(),
  /** Creator's JID, when WhatsApp says. */
  owner: jid.optional(),
  /** ISO time the group was created. */
  creation: z.string().optional(),
  participants: z.array(z.object({ jid, role: z.enum(GROUP_ROLES) })),
});
export type GroupSummary = z.infer<typeof groupSchema>;

export const groupsReplySchema = z.object({
  ok: z.literal(true),
  account: accountIdSchema,
  groups: z.array(groupSchema),
});

/**
 * `read`: `sent` when the receipts went to WhatsApp now; `held` when the account was not
 * connected — the read is remembered (per chat, merged) and sent on the next login.
 */
export const readReplySchema = z.object({
  ok: z.literal(true),
  account: accountIdSchema,
  chat: recipientSchema,
  status: z.enum(['sent', 'held']),
});

/** `presence` is ephemeral: sent now, or refused with `unavailable` while not connected. */
export const presenceReplySchema = z.object({
  ok: z.literal(true),
  account: accountIdSchema,
  chat: recipientSchema,
  state: z.enum(CHAT_STATES),
});

export const RECEIPT_STATUSES = ['delivered', 'read'] as const;

/** Per-participant receipt for one of our group sends (1:1 sends report through `send.acked`). */
export const receiptBody = {
  type: z.literal('receipt'),
  /** The send's id. */
  id: sendIdSchema,
  waMessageId: waMessageIdSchema,
  /** The group. */
  chat: jid,
  /** The participant the receipt is from (phone-number JID when WhatsApp gives one). */
  participant: jid,
  status: z.enum(RECEIPT_STATUSES),
};

export const PARTICIPANT_ACTIONS = ['add', 'remove', 'promote', 'demote'] as const;

/** A group's membership changed (someone joined, left, was removed, promoted or demoted). */
export const groupParticipantsBody = {
  type: z.literal('group.participants'),
  /** The group. */
  chat: jid,
  action: z.enum(PARTICIPANT_ACTIONS),
  participants: z.array(jid).min(1),
  /** Who made the change, when WhatsApp says. */
  by: jid.optional(),
};
