/**
 * A recorded send's content as Baileys sends it. Non-media kinds go through
 * `sendMessage` (Baileys builds reactions, edits and revokes, and sets the stanza's
 * `edit` attribute). Media is split in two so a replay never uploads twice: the upload
 * (`prepareWAMessageMedia`) is reported as soon as it finished (`send.uploaded`), and
 * the message is built from that record and relayed under the send's message id — the
 * first time and on every replay alike.
 */
import {
  generateWAMessageFromContent,
  prepareWAMessageMedia,
  type proto,
  type AnyMessageContent,
  type MiscMessageGenerationOptions,
  type WAMessage,
  type WASocket,
} from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import type { MediaKind, QueuedContent, TargetKey, UploadedMedia } from '../contract/index.js';

/** Baileys' own upload timeout is none; a stuck upload must end so the send can be retried or failed. */
export const MEDIA_UPLOAD_TIMEOUT_MS = 60_000;

export type MediaIo = {
  /** The upload recorded before (`send.uploaded`), if any. */
  uploaded?: UploadedMedia;
  /** The bytes of the send's `WA_MEDIA` object (checked against its recorded SHA-256). */
  read(): Promise<Uint8Array>;
  /** The upload finished: record it before the message goes out. */
  onUploaded(media: UploadedMedia): void;
};

/** Sends one content; returns the message as sent (for WhatsApp's retry requests). */
export async function sendContent(
  sock: WASocket,
  jid: string,
  content: QueuedContent,
  messageId: string,
  media: MediaIo | undefined,
  logger: Logger,
): Promise<proto.IMessage | undefined> {
  const options: MiscMessageGenerationOptions & { messageId: string } = { messageId };
  if ('quoted' in content && content.quoted) options.quoted = quotedMessage(jid, content.quoted);
  if ('media' in content) {
    if (!media) throw new Error('a media send without its media');
    const uploaded = media.uploaded ?? (await upload(sock, content, await media.read(), logger, media));
    const message = mediaMessage(content, uploaded);
    const full = generateWAMessageFromContent(jid, message, {
      userJid: sock.user?.id ?? '',
      messageId,
      ...(options.quoted ? { quoted: options.quoted } : {}),
    });
    await sock.relayMessage(jid, full.message!, { messageId });
    return full.message ?? undefined;
  }
  const sent = await sock.sendMessage(jid, anyContent(jid, content), options);
  return sent?.message ?? undefined;
}

function anyContent(jid: string, c: Exclude<QueuedContent, { media: unknown }>): AnyMessageContent {
  switch (c.kind) {
    case 'text':
      return { text: c.text };
    case 'location': {
      const { latitude, longitude, name, address } = c.location;
      return {
        location: {
          degreesLatitude: latitude,
          degreesLongitude: longitude,
          ...(name !== undefined ? { name } : {}),
          ...(address !== undefined ? { address } : {}),
        },
      };
    }
    case 'contact': {
      const displayName = c.contact.displayName ?? /^FN:(.*)$/m.exec(c.contact.vcard)?.[1]?.trim() ?? '';
      return { contacts: { displayName, contacts: [{ displayName, vcard: c.contact.vcard }] } };
    }
    case 'reaction':
      return { react: { text: c.emoji, key: keyOf(jid, c.target) } };
    case 'edit':
      return { text: c.text, edit: keyOf(jid, c.target) };
    case 'delete':
      return { delete: keyOf(jid, c.target) };
    default: {
      const unreachable: never = c;
      return unreachable;
    }
  }
}

function keyOf(jid: string, t: TargetKey): proto.IMessageKey {
  return { remoteJid: jid, fromMe: t.fromMe, id: t.id, ...(t.participant ? { participant: t.participant } : {}) };
}

/**
 * A reply quotes by key; the quoted content is not kept (the stream holds ids, not
 * texts), so the quote carries an empty text: WhatsApp links the reply by `stanzaId`.
 */
function quotedMessage(jid: string, t: TargetKey): WAMessage {
  return { key: keyOf(jid, t), message: { conversation: '' } };
}

type MediaQueued = Extract<QueuedContent, { media: unknown }>;

async function upload(
  sock: WASocket,
  c: MediaQueued,
  bytes: Uint8Array,
  logger: Logger,
  media: MediaIo,
): Promise<UploadedMedia> {
  const kind: MediaKind = c.kind;
  const prepared = await prepareWAMessageMedia(
    {
      [kind]: Buffer.from(bytes),
      mimetype: c.media.mimetype,
      // No thumbnail: computing one needs an image library, and replays must send the same message.
      ...(kind === 'image' || kind === 'video' ? { jpegThumbnail: '' } : {}),
      ...(kind === 'audio' ? { seconds: 0 } : {}),
    } as unknown as Parameters<typeof prepareWAMessageMedia>[0],
    { upload: sock.waUploadToServer, logger, mediaUploadTimeoutMs: MEDIA_UPLOAD_TIMEOUT_MS },
  );
  const m = prepared[`${kind}Message`] as proto.Message.IImageMessage;
  const b64 = (v: Uint8Array | null | undefined) => Buffer.from(v ?? []).toString('base64');
  const uploaded: UploadedMedia = {
    url: m.url ?? '',
    directPath: m.directPath ?? '',
    mediaKey: b64(m.mediaKey),
    fileSha256: b64(m.fileSha256),
    fileEncSha256: b64(m.fileEncSha256),
    fileLength: Number(m.fileLength ?? bytes.byteLength),
    mediaKeyTimestamp: Number(m.mediaKeyTimestamp ?? Math.floor(Date.now() / 1000)),
  };
  media.onUploaded(uploaded);
  return uploaded;
}

/** The `<kind>Message` of a media send, from its recorded upload. */
export function mediaMessage(c: MediaQueued, u: UploadedMedia): proto.IMessage {
  const common = {
    url: u.url,
    directPath: u.directPath,
    mediaKey: Buffer.from(u.mediaKey, 'base64'),
    fileSha256: Buffer.from(u.fileSha256, 'base64'),
    fileEncSha256: Buffer.from(u.fileEncSha256, 'base64'),
    fileLength: u.fileLength,
    mediaKeyTimestamp: u.mediaKeyTimestamp,
    mimetype: c.media.mimetype,
  };
  switch (c.kind) {
    case 'image':
      return { imageMessage: { ...common, ...(c.caption !== undefined ? { caption: c.caption } : {}) } };
    case 'video':
      return { videoMessage: { ...common, ...(c.caption !== undefined ? { caption: c.caption } : {}) } };
    case 'audio':
      return { audioMessage: { ...common, ptt: c.voiceNote === true, ...(u.seconds ? { seconds: u.seconds } : {}) } };
    case 'document':
      return {
        documentMessage: {
          ...common,
          fileName: c.fileName ?? 'file',
          ...(c.caption !== undefined ? { caption: c.caption } : {}),
        },
      };
    case 'sticker':
      return { stickerMessage: common };
    default: {
      const unreachable: never = c;
      return unreachable;
    }
  }
}
