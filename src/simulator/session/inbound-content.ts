// What a contact sends (POST /inbound) as a proto.Message: text, media (the simulator
// encrypts the bytes given, stores the blob on its media host and sends the message with
// url, directPath, mediaKey and both sha256s, as WhatsApp would), location, contact card,
// reply (contextInfo.stanzaId), reaction, edit and revoke (protocolMessage). Also the
// stanza attributes WhatsApp puts on such a `<message>` (type, edit).
import { proto } from '../wa.js';
import { SimulatorError } from '../errors.js';
import { pnJid } from '../accounts/jids.js';
import type { MediaType } from '../ledger/content.js';
import { encryptMedia } from '../media/crypto.js';
import type { MediaService } from '../media/media-conn.js';

export interface InboundMedia {
  type: MediaType;
  /** The plaintext: bytes, or base64 text (control API). */
  data: Buffer | string;
  mimetype?: string | undefined;
  caption?: string | undefined;
  fileName?: string | undefined;
  /** Audio as a voice note. */
  ptt?: boolean | undefined;
  seconds?: number | undefined;
}

export interface InboundRequest {
  account: string;
  from: string;
  id?: string | undefined;
  /** Exactly one of the kinds below. */
  text?: string | undefined;
  media?: InboundMedia | undefined;
  location?:
    { latitude: number; longitude: number; name?: string | undefined; address?: string | undefined } | undefined;
  contact?: { displayName: string; vcard: string } | undefined;
  /** A reaction to `targetId` (by default a message the account sent); '' removes it. */
  reaction?: { targetId: string; emoji: string; targetFromContact?: boolean | undefined } | undefined;
  /** The contact edits its own earlier message `targetId`. */
  edit?: { targetId: string; text: string } | undefined;
  /** The contact deletes its own earlier message `targetId` for everyone. */
  revoke?: { targetId: string } | undefined;
  /** With text, media, location or contact: a reply quoting message `quotedId`. */
  quotedId?: string | undefined;
}

export interface InboundStanza {
  message: proto.IMessage;
  /** `<message type>`: text, media or reaction. */
  type: string;
  /** `<message edit>`: 1 for an edit, 7 for a revoke (as WhatsApp sends them). */
  edit?: string;
}

const KINDS = ['text', 'media', 'location', 'contact', 'reaction', 'edit', 'revoke'] as const;

/** Baileys' default mimetypes (Utils/messages.js MIMETYPE_MAP). */
const DEFAULT_MIMETYPES: Record<MediaType, string> = {
  image: 'image/jpeg',
  video: 'video/mp4',
  audio: 'audio/ogg; codecs=opus',
  document: 'application/octet-stream',
  sticker: 'image/webp',
};

/** Upload path type per media type (Baileys' MEDIA_PATH_MAP: stickers are images). */
const PATH_TYPES: Record<MediaType, string> = {
  image: 'image',
  video: 'video',
  audio: 'audio',
  document: 'document',
  sticker: 'image',
};

export function buildInbound(req: InboundRequest, accountPhone: string, media: MediaService): InboundStanza {
  const given = KINDS.filter((k) => req[k] !== undefined);
  if (given.length !== 1)
    throw new SimulatorError(
      'bad_request',
      `give exactly one of ${KINDS.join(', ')} (got ${given.join(', ') || 'none'})`,
    );
  const kind = given[0]!;
  if (req.quotedId !== undefined && !['text', 'media', 'location', 'contact'].includes(kind))
    throw new SimulatorError('bad_request', `quotedId: a ${kind} cannot quote a message`);
  const contextInfo = req.quotedId ? { contextInfo: { stanzaId: req.quotedId, participant: pnJid(accountPhone) } } : {};
  // Keys of messages a contact refers to, from the contact's side of the chat.
  const keyOf = (id: string, fromContact: boolean): proto.IMessageKey => ({
    remoteJid: pnJid(accountPhone),
    fromMe: fromContact,
    id,
  });
  if (req.text !== undefined) {
    const message = req.quotedId
      ? { extendedTextMessage: { text: req.text, ...contextInfo } }
      : { conversation: req.text };
    return { message, type: 'text' };
  }
  if (req.media) return { message: mediaMessage(req.media, contextInfo, media), type: 'media' };
  if (req.location) {
    const { latitude, longitude, name, address } = req.location;
    return {
      message: {
        locationMessage: {
          degreesLatitude: latitude,
          degreesLongitude: longitude,
          name: name ?? null,
          address: address ?? null,
          ...contextInfo,
        },
      },
      type: 'media',
    };
  }
  if (req.contact) return { message: { contactMessage: { ...req.contact, ...contextInfo } }, type: 'media' };
  if (req.reaction) {
    const { targetId, emoji, targetFromContact } = req.reaction;
    return {
      message: {
        reactionMessage: {
          key: keyOf(targetId, targetFromContact ?? false),
          text: emoji,
          senderTimestampMs: Date.now(),
        },
      },
      type: 'reaction',
    };
  }
  if (req.edit) {
    const protocolMessage: proto.Message.IProtocolMessage = {
      key: keyOf(req.edit.targetId, true),
      type: proto.Message.ProtocolMessage.Type.MESSAGE_EDIT,
      editedMessage: { conversation: req.edit.text },
      timestampMs: Date.now(),
    };
    return { message: { protocolMessage }, type: 'text', edit: '1' };
  }
  const protocolMessage: proto.Message.IProtocolMessage = {
    key: keyOf(req.revoke!.targetId, true),
    type: proto.Message.ProtocolMessage.Type.REVOKE,
  };
  return { message: { protocolMessage }, type: 'text', edit: '7' };
}

function mediaMessage(m: InboundMedia, contextInfo: object, media: MediaService): proto.IMessage {
  const plain = typeof m.data === 'string' ? Buffer.from(m.data, 'base64') : m.data;
  if (plain.length === 0) throw new SimulatorError('bad_request', 'media.data: empty');
  const enc = encryptMedia(plain, m.type);
  const blob = media.store.put(PATH_TYPES[m.type], enc.blob);
  const common = {
    url: `${media.url}${blob.directPath}&mms3=true`,
    directPath: blob.directPath,
    mediaKey: enc.mediaKey,
    fileSha256: enc.fileSha256,
    fileEncSha256: enc.fileEncSha256,
    fileLength: enc.fileLength,
    mediaKeyTimestamp: Math.floor(Date.now() / 1000),
    mimetype: m.mimetype ?? DEFAULT_MIMETYPES[m.type],
    ...contextInfo,
  };
  switch (m.type) {
    case 'image':
      return { imageMessage: { ...common, caption: m.caption ?? null } };
    case 'video':
      return { videoMessage: { ...common, caption: m.caption ?? null, seconds: m.seconds ?? null } };
    case 'audio':
      return { audioMessage: { ...common, ptt: m.ptt ?? false, seconds: m.seconds ?? null } };
    case 'document':
      return { documentMessage: { ...common, caption: m.caption ?? null, fileName: m.fileName ?? 'file' } };
    case 'sticker':
      return { stickerMessage: common };
  }
}
