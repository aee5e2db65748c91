/**
 * Field schemas shared by events and commands, so a send id or a timestamp has one
 * definition on both sides of the wire.
 */
import { z } from 'zod';
import { WA_ERROR_CODES } from './errors.js';
import { ACCOUNT_ID_PATTERN, reservedAccountId } from './subjects.js';

/** An account id: one subject token, not reserved. The config schema uses it too. */
export const accountIdSchema = z
  .string()
  .regex(ACCOUNT_ID_PATTERN, 'account ids are 1–32 of a-z 0-9 _ - starting with a letter or digit')
  .check((ctx) => {
    const reserved = reservedAccountId(ctx.value);
    if (reserved) ctx.issues.push({ code: 'custom', message: reserved, input: ctx.value });
  });

/**
 * A send id is chosen by the client and makes `send` idempotent. Restricted to a
 * header- and log-safe alphabet; 128 covers UUIDs, ULIDs and "<app>:<uuid>" prefixes.
 */
export const SEND_ID_MAX = 128;
export const sendIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:@-]+$/, 'id may contain letters, digits and . _ : @ - only')
  .min(1)
  .max(SEND_ID_MAX);

/** ISO 8601 with an explicit offset (`Z` or `+02:00`): times cross machines. */
export const isoTimeSchema = z.iso.datetime({ offset: true });

/** A normalised user JID as the contract stores it (see jid.ts). */
export const jidSchema = z.string().regex(/^[0-9]{1,20}@(s\.whatsapp\.net|lid)$/, 'not a user JID');
/** A send's recipient: a user JID or a group JID (src/contract/jid.ts normaliseRecipient). */
export const recipientSchema = z
  .string()
  .regex(/^([0-9]{1,20}@(s\.whatsapp\.net|lid)|[0-9]{1,20}(-[0-9]{1,20})?@g\.us)$/, 'not a user or group JID');

export const wireErrorSchema = z.object({
  code: z.enum(WA_ERROR_CODES),
  message: z.string(),
});
