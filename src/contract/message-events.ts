/**
 * The message facts of issue 13: the kind and fields `message.in` gained, what
 * `send.uploaded` records, and `message.reaction|edited|deleted`. Own file so
 * events.ts stays the catalog.
 */
import { z } from 'zod';
import { objectNameSchema } from './content.js';
import { envelope } from './event-envelope.js';
import { isoTimeSchema, sendIdSchema } from './fields.js';

/**
 * What WhatsApp sends is not ours to bound tightly: an inbound field the send-side
 * schema would refuse (a longer place name, an odd vCard) must not cost the event.
 */
const inboundId = z.string().min(1).max(128);

const b64 = z
  .string()
  .max(256)
  .regex(/^[A-Za-z0-9+/=_-]*$/, 'base64');

/** An upload to WhatsApp's media servers (Baileys' prepareWAMessageMedia result), binary fields base64. */
export const uploadedMediaSchema = z.object({
  url: z.string().min(1).max(2048),
  directPath: z.string().min(1).max(2048),
  mediaKey: b64,
  /** SHA-256 of the plaintext. */
  fileSha256: b64,
  /** SHA-256 of what was uploaded (encrypted). */
  fileEncSha256: b64,
  fileLength: z.number().int().min(0),
  /** Unix seconds. */
  mediaKeyTimestamp: z.number().int().min(0),
  /** Audio length, computed while uploading. */
  seconds: z.number().int().min(0).optional(),
});
export type UploadedMedia = z.infer<typeof uploadedMediaSchema>;

/** Inbound kinds; `other` is anything else WhatsApp carries (polls, events, …): `text` absent. */
export const INBOUND_KINDS = [
  'text',
  'image',
  'video',
  'audio',
  'document',
  'sticker',
  'location',
  'contact',
  'other',
] as const;

/** An inbound media attachment. Downloaded: `object`; not (media.download off or it failed): the download fields. */
export const inboundMediaSchema = z.object({
  mimetype: z.string().max(256).optional(),
  size: z.number().int().min(0).optional(),
  /** SHA-256 of the plaintext, hex. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{0,128}$/)
    .optional(),
  fileName: z.string().max(1024).optional(),
  /** Audio/video length in seconds. */
  seconds: z.number().int().min(0).optional(),
  /** An audio recorded as a voice note (WhatsApp `ptt`). */
  voiceNote: z.boolean().optional(),
  /** The decrypted bytes in `WA_MEDIA`. */
  object: objectNameSchema.optional(),
  /** Why the download failed (the download fields are there instead). */
  downloadError: z.string().max(256).optional(),
  url: z.string().max(2048).optional(),
  directPath: z.string().max(2048).optional(),
  mediaKey: b64.optional(),
  fileEncSha256: b64.optional(),
  mediaKeyTimestamp: z.number().int().min(0).optional(),
});
export type InboundMedia = z.infer<typeof inboundMediaSchema>;

/** Fields `message.in` gained in issue 13 (all optional: older events lack them). */
export const inboundFieldsSchema = z.object({
  kind: z.enum(INBOUND_KINDS).optional(),
  /** Media caption (the text of a text message stays in `text`). */
  caption: z.string().optional(),
  media: inboundMediaSchema.optional(),
  location: z
    .object({
      latitude: z.number().optional(),
      longitude: z.number().optional(),
      name: z.string().max(4096).optional(),
      address: z.string().max(4096).optional(),
    })
    .optional(),
  contact: z
    .object({
      displayName: z.string().max(4096).optional(),
      vcard: z
        .string()
        .max(256 * 1024)
        .optional(),
    })
    .optional(),
  /** The WhatsApp message id this one quotes (a reply). */
  replyTo: inboundId.optional(),
});

const about = {
  /** Who did it; in groups the participant, otherwise `chat`. */
  from: z.string().min(1).max(128),
  chat: z.string().min(1).max(128),
  /** The message acted on. */
  target: inboundId,
  /** Whether the message acted on is one of ours. */
  targetFromMe: z.boolean(),
  timestamp: isoTimeSchema,
};

export const messageReactionEventSchema = z.object({
  ...envelope,
  type: z.literal('message.reaction'),
  waMessageId: inboundId,
  ...about,
  /** `""`: the reaction was removed. */
  emoji: z.string().max(64),
});

export const messageEditedEventSchema = z.object({
  ...envelope,
  type: z.literal('message.edited'),
  waMessageId: inboundId,
  ...about,
  /** The new text (or caption). */
  text: z.string(),
});

export const messageDeletedEventSchema = z.object({
  ...envelope,
  type: z.literal('message.deleted'),
  waMessageId: inboundId,
  ...about,
});

/**
 * A media send's upload finished: what WhatsApp needs to fetch and decrypt it. A replay
 * (after a drop or a restart) sends the same message from this, without uploading
 * again. Carries the media key: readable by whoever may read `WA_EVENTS`, never logged.
 */
export const sendUploadedEventSchema = z.object({
  ...envelope,
  type: z.literal('send.uploaded'),
  id: sendIdSchema,
  media: uploadedMediaSchema,
});
