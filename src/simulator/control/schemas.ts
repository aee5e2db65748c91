// Input validation for the control API (zod): every body is checked before it reaches the
// simulator, and a failure names the bad field.
import { z } from 'zod';
import { TRAFFIC_KINDS } from '../faults/faults.js';
import { FIELD_REPORT_IDLE_TIMEOUT_MS } from '../timing.js';

const phone = z.string().regex(/^\d{5,15}$/, 'must be 5–15 digits');
const ms = z
  .number()
  .int()
  .min(0)
  .max(7 * 24 * 3600_000);
const code = z.number().int().min(100).max(999);

/** Stream-error code the policies use by default: 408, as in the field report. */
const DEFAULT_POLICY_CODE = 408;

export const conditionsSchema = z
  .object({
    silence: z.boolean(),
    ackLatencyMs: ms,
    pingLatencyMs: ms,
    rejectSends: z
      .object({
        error: z.string().regex(/^\d{3}$/, 'must be a 3-digit code'),
        to: z
          .string()
          .regex(/^\d{1,20}$/, 'must be the digits of a phone number or LID')
          .optional(),
        count: z.number().int().min(1).max(1_000_000).optional(),
      })
      .strict(),
    undecryptableInbound: z.object({ count: z.number().int().min(1).max(1_000_000) }).strict(),
    loginFailure: z.object({ reason: code }).strict(),
    rejectUploads: z.object({ status: z.number().int().min(400).max(599) }).strict(),
    idleTimeout: z
      .object({
        afterMs: ms.default(FIELD_REPORT_IDLE_TIMEOUT_MS),
        resetBy: z.array(z.enum(TRAFFIC_KINDS)).default(['message', 'receipt', 'presence', 'iq', 'notification']),
        code: code.default(DEFAULT_POLICY_CODE),
      })
      .strict(),
    recycle: z.object({ everyMs: ms.min(1), code: code.default(DEFAULT_POLICY_CODE) }).strict(),
    receipts: z
      .object({
        delivery: z.boolean().default(true),
        read: z.boolean().default(false),
        deliveryDelayMs: ms.default(0),
        readDelayMs: ms.default(0),
      })
      .strict(),
  })
  .partial()
  .strict();

export const setFaultsSchema = conditionsSchema.extend({ account: phone.optional() }).strict();

export const clearFaultsSchema = z
  .object({
    account: phone.optional(),
    keys: z
      .array(
        z.enum([
          'silence',
          'ackLatencyMs',
          'pingLatencyMs',
          'rejectSends',
          'undecryptableInbound',
          'loginFailure',
          'rejectUploads',
          'idleTimeout',
          'recycle',
          'receipts',
        ]),
      )
      .optional(),
  })
  .strict();

export const actionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('stream-error'), code: code, account: phone.optional() }).strict(),
  z.object({ type: z.literal('conflict'), account: phone.optional() }).strict(),
  z
    .object({
      type: z.literal('failure'),
      reason: code.default(401),
      // 402 temporary ban: seconds until it ends, and WhatsApp's ban reason code.
      expire: z
        .number()
        .int()
        .min(0)
        .max(365 * 86_400)
        .optional(),
      code: z.number().int().min(0).max(9_999).optional(),
      account: phone.optional(),
    })
    .strict(),
  z.object({ type: z.literal('close'), account: phone.optional() }).strict(),
  z.object({ type: z.literal('destroy'), account: phone.optional() }).strict(),
  z.object({ type: z.literal('freeze'), account: phone.optional() }).strict(),
]);

export const provisionSchema = z
  .object({
    phone: phone.optional(),
    name: z.string().min(1).max(64).optional(),
    preKeys: z.number().int().min(0).max(812).optional(),
  })
  .strict();

const groupJid = z.string().regex(/^[0-9-]{1,64}@g\.us$/, 'must be a group jid (<id>@g.us)');

export const createGroupSchema = z
  .object({
    subject: z.string().min(1).max(100),
    participants: z.array(phone).min(1).max(1024),
    admins: z.array(phone).max(1024).optional(),
    owner: phone.optional(),
    id: z
      .string()
      .regex(/^[0-9-]{1,64}$/)
      .optional(),
    addressingMode: z.enum(['lid', 'pn']).optional(),
  })
  .strict();

export const groupChangeSchema = z
  .object({
    group: groupJid,
    action: z.enum(['add', 'remove', 'promote', 'demote']),
    participants: z.array(phone).min(1).max(1024),
    by: phone.optional(),
  })
  .strict();

const messageId = z.string().regex(/^[A-Za-z0-9]{4,64}$/, 'must be 4–64 letters or digits');
/** Base64 media in a control request: up to 48 MiB of plaintext. */
const MAX_INBOUND_MEDIA_B64 = Math.ceil((48 * 1024 * 1024 * 4) / 3);

export const inboundSchema = z
  .object({
    account: phone,
    from: phone,
    id: messageId.optional(),
    group: groupJid.optional(),
    text: z
      .string()
      .max(64 * 1024)
      .optional(),
    media: z
      .object({
        type: z.enum(['image', 'video', 'audio', 'document', 'sticker']),
        data: z.base64().min(1).max(MAX_INBOUND_MEDIA_B64),
        mimetype: z.string().min(1).max(255).optional(),
        caption: z
          .string()
          .max(64 * 1024)
          .optional(),
        fileName: z.string().min(1).max(255).optional(),
        ptt: z.boolean().optional(),
        seconds: z.number().int().min(0).max(86_400).optional(),
      })
      .strict()
      .optional(),
    location: z
      .object({
        latitude: z.number().min(-90).max(90),
        longitude: z.number().min(-180).max(180),
        name: z.string().max(1024).optional(),
        address: z.string().max(1024).optional(),
      })
      .strict()
      .optional(),
    contact: z
      .object({
        displayName: z.string().min(1).max(256),
        vcard: z
          .string()
          .min(1)
          .max(64 * 1024),
      })
      .strict()
      .optional(),
    reaction: z
      .object({ targetId: messageId, emoji: z.string().max(32), targetFromContact: z.boolean().optional() })
      .strict()
      .optional(),
    edit: z
      .object({ targetId: messageId, text: z.string().max(64 * 1024) })
      .strict()
      .optional(),
    revoke: z.object({ targetId: messageId }).strict().optional(),
    quotedId: messageId.optional(),
  })
  .strict();

export const uploadsQuerySchema = z.object({ account: phone.optional() }).strict();

export const qrScanSchema = z.object({ qr: z.string().min(1).max(4096), phone: phone.optional() }).strict();
export const pairingCodeSchema = z
  .object({ phone, code: z.string().regex(/^[A-Za-z0-9]{8}$/, 'must be the 8-character code') })
  .strict();
export const ledgerQuerySchema = z
  .object({
    account: phone.optional(),
    chat: z.string().min(3).max(128).optional(),
    direction: z.enum(['out', 'in']).optional(),
  })
  .strict();
