/**
 * The events of what went wrong on WhatsApp's side without breaking the link: a message
 * that could not be decrypted, a temporary ban. Part of `WA_EVENTS` (events.ts holds
 * the union and the classes).
 */
import { z } from 'zod';
import { envelope } from './event-envelope.js';
import { isoTimeSchema } from './fields.js';

/**
 * An inbound message WhatsApp delivered but Baileys could not decrypt (its CIPHERTEXT
 * stub). Baileys has asked the sender to encrypt it again (a retry receipt); when that
 * copy decrypts it arrives as one `message.in` with the same `waMessageId`. One per id.
 */
export const messageUndecryptableEventSchema = z.object({
  ...envelope,
  type: z.literal('message.undecryptable'),
  waMessageId: z.string().min(1).max(128),
  from: z.string().min(1).max(128),
  chat: z.string().min(1).max(128),
  /** Baileys' (libsignal's) error: `Bad MAC`, `No session`, `Invalid PreKey ID`, `Message absent from node` … */
  reason: z.string().max(256),
  timestamp: isoTimeSchema,
});

/**
 * WhatsApp banned the account for a while (`<failure reason=402 expire=…>`, Baileys'
 * close with statusCode 402): no connect attempt before `until`, then a normal one.
 */
export const accountBannedEventSchema = z.object({
  ...envelope,
  type: z.literal('account.banned'),
  /** When the ban ends and the account connects again. */
  until: isoTimeSchema,
  statusCode: z.number().int(),
  /** WhatsApp's ban reason code (`code` of the failure), when it gave one. */
  banCode: z.number().int().optional(),
});
