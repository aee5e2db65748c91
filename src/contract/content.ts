/**
 * What a `send` carries: one message kind and its fields (issue 13). One verb, the
 * request names its kind; a request without `kind` is a text message, so today's
 * `{ to, text }` keeps its meaning. Three shapes of the same content live here:
 * - the request (`sendContentRequestSchema`): what a client writes, media named by
 *   a `WA_MEDIA` object, an http(s) URL or inline base64;
 * - `SendContent`: the request after decoding (normalised, still naming its source);
 * - `QueuedContent`: what `send.queued` records once the gateway resolved the media
 *   into a `WA_MEDIA` object and the target of a reaction/edit/delete into its key.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** The Object Store bucket of sent and received media (created by the gateway at start). */
export const MEDIA_BUCKET = 'WA_MEDIA';
/** Object metadata key holding a media object's mimetype. */
export const MIMETYPE_META = 'mimetype';

export const SEND_KINDS = [
  'text',
  'image',
  'video',
  'audio',
  'document',
  'sticker',
  'location',
  'contact',
  'reaction',
  'edit',
  'delete',
] as const;
export type SendKind = (typeof SEND_KINDS)[number];

export const MEDIA_KINDS = ['image', 'video', 'audio', 'document', 'sticker'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

export function isMediaKind(kind: string): kind is MediaKind {
  return (MEDIA_KINDS as readonly string[]).includes(kind);
}

const MIB = 1024 * 1024;
/**
 * WhatsApp's limits per kind, as its Business Cloud API documents them (image 5 MB,
 * video and audio 16 MB, document 100 MB, animated sticker 500 KB). Phones accept some
 * larger files, but a gateway that promises delivery keeps to the documented ones.
 */
export const MEDIA_MAX_BYTES: Record<MediaKind, number> = {
  image: 5 * MIB,
  video: 16 * MIB,
  audio: 16 * MIB,
  document: 100 * MIB,
  sticker: 500 * 1024,
};

/** Inline base64 is for small things (a sticker, a thumbnail-sized image): decoded bytes. */
export const MAX_INLINE_BYTES = 64 * 1024;

/** What WhatsApp gets when the client names no mimetype. */
export const DEFAULT_MIMETYPE: Record<MediaKind, string> = {
  image: 'image/jpeg',
  video: 'video/mp4',
  audio: 'audio/mpeg',
  document: 'application/octet-stream',
  sticker: 'image/webp',
};
/** WhatsApp plays voice notes as Opus in Ogg. */
export const VOICE_NOTE_MIMETYPE = 'audio/ogg; codecs=opus';

/** A WhatsApp message id (ours are `3EB0…`; other clients use other shapes). */
export const waMessageIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'a WhatsApp message id');

/** A `WA_MEDIA` object name (nats.js object names: any non-empty string; we keep it subject-safe-ish). */
export const objectNameSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9._:/=-]+$/, 'object names may contain letters, digits and . _ : / = - only');

export const mediaSourceSchema = z.union([
  z.object({ object: objectNameSchema }).strict(),
  z
    .object({ url: z.url({ protocol: /^https?$/, error: 'media.url must be an http or https URL' }).max(2048) })
    .strict(),
  z.object({ base64: z.base64() }).strict(),
]);
export type MediaSource = z.infer<typeof mediaSourceSchema>;

const caption = z.string().min(1).max(4096);
const mimetype = z
  .string()
  .min(3)
  .max(128)
  .regex(/^[\w.+-]+\/[\w.+-]+(;.*)?$/, 'a mimetype such as image/png');
const replyTo = waMessageIdSchema;

export const locationSchema = z
  .object({
    latitude: z.number().min(-90).max(90),
    longitude: z.number().min(-180).max(180),
    name: z.string().min(1).max(256).exactOptional(),
    address: z.string().min(1).max(512).exactOptional(),
  })
  .strict();

export const contactSchema = z
  .object({
    /** A vCard 3.0 text (BEGIN:VCARD … END:VCARD). */
    vcard: z
      .string()
      .min(1)
      .max(16 * 1024)
      .regex(/^BEGIN:VCARD[\s\S]*END:VCARD\s*$/, 'a vCard (BEGIN:VCARD … END:VCARD)'),
    /** Shown in the chat; default: the vCard's FN. */
    displayName: z.string().min(1).max(256).exactOptional(),
  })
  .strict();

const base = { kind: z.literal('text') };
const media = <K extends MediaKind>(kind: K) => ({
  kind: z.literal(kind),
  media: mediaSourceSchema,
  mimetype: mimetype.exactOptional(),
  replyTo: replyTo.exactOptional(),
});

/** The content part of a send request, per kind (the envelope — id, to, deadline — is commands.ts'). */
export const contentVariants = [
  z.object({ ...base, text: z.string().min(1), replyTo: replyTo.exactOptional() }),
  z.object({ ...media('image'), caption: caption.exactOptional() }),
  z.object({ ...media('video'), caption: caption.exactOptional() }),
  z.object({ ...media('audio'), voiceNote: z.boolean().exactOptional() }),
  z.object({
    ...media('document'),
    caption: caption.exactOptional(),
    fileName: z.string().min(1).max(255).exactOptional(),
  }),
  z.object(media('sticker')),
  z.object({ kind: z.literal('location'), location: locationSchema, replyTo: replyTo.exactOptional() }),
  z.object({ kind: z.literal('contact'), contact: contactSchema, replyTo: replyTo.exactOptional() }),
  /** `emoji: ""` removes our reaction. */
  z.object({ kind: z.literal('reaction'), target: waMessageIdSchema, emoji: z.string().max(32) }),
  z.object({ kind: z.literal('edit'), target: waMessageIdSchema, text: z.string().min(1) }),
  z.object({ kind: z.literal('delete'), target: waMessageIdSchema }),
] as const;

export type SendContent = z.infer<(typeof contentVariants)[number]>;
export type ContentOf<K extends SendKind> = Extract<SendContent, { kind: K }>;
export type MediaContent = Extract<SendContent, { kind: MediaKind }>;

/** A media source after the gateway took it: an object in `WA_MEDIA`, its size and plaintext SHA-256 (hex). */
export const mediaRefSchema = z.object({
  object: objectNameSchema,
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  mimetype,
});
export type MediaRef = z.infer<typeof mediaRefSchema>;

/** The message a reaction, edit or delete acts on: its WhatsApp key in the chat of `to`. */
export const targetKeySchema = z.object({
  id: waMessageIdSchema,
  fromMe: z.boolean(),
  /** In groups: who sent it. */
  participant: z.string().min(1).max(128).optional(),
});
export type TargetKey = z.infer<typeof targetKeySchema>;

/**
 * `send.queued.content`: the decoded content with media resolved (`media` is a
 * `MediaRef`) and a target resolved (`target` is a `TargetKey`). Loose on purpose
 * (passthrough of the kind's fields): the request schemas above are the strict gate.
 */
export const queuedContentSchema = z
  .object({
    kind: z.enum(SEND_KINDS),
    media: mediaRefSchema.optional(),
    target: targetKeySchema.optional(),
    quoted: targetKeySchema.optional(),
  })
  .loose();
export type QueuedContent = (
  | Exclude<SendContent, { kind: MediaKind | 'reaction' | 'edit' | 'delete' }>
  | (DistOmit<MediaContent, 'media' | 'mimetype'> & { media: MediaRef })
  | (DistOmit<ContentOf<'reaction' | 'edit' | 'delete'>, 'target'> & { target: TargetKey })
) & {
  /** With `replyTo`: the key of the message quoted. */
  quoted?: TargetKey;
};

/** `Omit` per member of a union (plain `Omit` keeps only the keys all members share). */
export type DistOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What a client writes as content: `kind` may be left out for text. */
export type SendContentInput =
  (DistOmit<ContentOf<'text'>, 'kind'> & { kind?: 'text' }) | Exclude<SendContent, { kind: 'text' }>;

/** The WhatsApp message id a content acts on (reaction, edit, delete) or quotes (reply). */
export function referencedMessage(c: SendContent): { id: string; as: 'target' | 'replyTo' } | undefined {
  if ('target' in c) return { id: c.target, as: 'target' };
  if ('replyTo' in c && c.replyTo !== undefined) return { id: c.replyTo, as: 'replyTo' };
  return undefined;
}

/**
 * What makes two sends with one id the same request: the (normalised) recipient and the
 * content as the client named it. A plain text keeps the hash it always had (stream
 * entries written before issue 13 compare equal); anything else hashes its canonical
 * JSON (keys sorted, so field order does not matter). Inline base64 is hashed with the
 * rest, never stored. 128 bits: a false match is practically impossible.
 */
export function requestFingerprint(to: string, content: SendContent | string): string {
  const h = createHash('sha256').update(to).update('\u0000');
  if (typeof content === 'string') h.update(content);
  else if (content.kind === 'text' && content.replyTo === undefined) h.update(content.text);
  else h.update(canonicalJson(content));
  return h.digest('base64url').slice(0, 22);
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
