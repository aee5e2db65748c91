/**
 * What a received WhatsApp message holds, as the contract names it: the kind and its
 * fields for `message.in`, or a reaction, an edit or a revoke of an earlier message
 * (`message.reaction|edited|deleted`). Pure mapping of Baileys' proto; downloading the
 * media is the runtime's (runtime/inbound.ts).
 */
import { extractMessageContent, getContentType, type proto } from '@whiskeysockets/baileys';
import type { InboundMedia } from '../contract/index.js';

// proto.Message.ProtocolMessage.Type
const REVOKE = 0;
const MESSAGE_EDIT = 14;

export type InboundKind =
  'text' | 'image' | 'video' | 'audio' | 'document' | 'sticker' | 'location' | 'contact' | 'other';

export type InboundContent =
  | {
      type: 'message';
      kind: InboundKind;
      text?: string;
      caption?: string;
      /** Metadata and what a later download needs (never logged: it holds the media key). */
      media?: InboundMedia;
      location?: { latitude?: number; longitude?: number; name?: string; address?: string };
      contact?: { displayName?: string; vcard?: string };
      replyTo?: string;
    }
  | { type: 'reaction'; target: string; targetFromMe: boolean; emoji: string }
  | { type: 'edited'; target: string; targetFromMe: boolean; text: string }
  | { type: 'deleted'; target: string; targetFromMe: boolean };

const MEDIA_FIELDS = {
  imageMessage: 'image',
  videoMessage: 'video',
  audioMessage: 'audio',
  documentMessage: 'document',
  stickerMessage: 'sticker',
} as const;

/** undefined: nothing a user sent (key distribution, history notices, other protocol messages). */
export function inboundContent(message: proto.IMessage): InboundContent | undefined {
  const protocol = message.protocolMessage;
  if (protocol) {
    const target = protocol.key?.id;
    if (!target) return undefined;
    const targetFromMe = protocol.key?.fromMe === true;
    if (protocol.type === REVOKE) return { type: 'deleted', target, targetFromMe };
    if (protocol.type === MESSAGE_EDIT) {
      const edited = extractMessageContent(protocol.editedMessage ?? undefined);
      const text = edited ? (textOf(edited) ?? captionOf(edited)) : undefined;
      return { type: 'edited', target, targetFromMe, text: text ?? '' };
    }
    return undefined;
  }
  const reaction = message.reactionMessage;
  if (reaction) {
    const target = reaction.key?.id;
    if (!target) return undefined;
    return { type: 'reaction', target, targetFromMe: reaction.key?.fromMe === true, emoji: reaction.text ?? '' };
  }
  const m = extractMessageContent(message);
  if (!m) return undefined;
  const type = getContentType(m);
  if (!type || type === 'senderKeyDistributionMessage' || type === 'messageContextInfo') return undefined;
  const out: Extract<InboundContent, { type: 'message' }> = { type: 'message', kind: 'other' };
  const text = textOf(m);
  if (text !== undefined) {
    out.kind = 'text';
    out.text = text;
  } else if (type in MEDIA_FIELDS) {
    out.kind = MEDIA_FIELDS[type as keyof typeof MEDIA_FIELDS];
    const media = m[type as keyof typeof MEDIA_FIELDS] as proto.Message.IDocumentMessage & proto.Message.IAudioMessage;
    out.media = mediaOf(media);
    const caption = captionOf(m);
    if (caption) out.caption = caption;
  } else if (m.locationMessage || m.liveLocationMessage) {
    const l = m.locationMessage ?? m.liveLocationMessage!;
    out.kind = 'location';
    out.location = {
      ...(l.degreesLatitude != null ? { latitude: l.degreesLatitude } : {}),
      ...(l.degreesLongitude != null ? { longitude: l.degreesLongitude } : {}),
      ...('name' in l && l.name ? { name: l.name } : {}),
      ...('address' in l && l.address ? { address: l.address } : {}),
    };
  } else if (m.contactMessage || m.contactsArrayMessage) {
    const c = m.contactMessage ?? m.contactsArrayMessage?.contacts?.[0];
    out.kind = 'contact';
    out.contact = {
      ...(c?.displayName ? { displayName: c.displayName } : {}),
      ...(c?.vcard ? { vcard: c.vcard } : {}),
    };
  }
  const replyTo = contextOf(m)?.stanzaId;
  if (replyTo) out.replyTo = replyTo;
  return out;
}

function textOf(m: proto.IMessage): string | undefined {
  const t = m.conversation ?? m.extendedTextMessage?.text;
  return t === null || t === undefined ? undefined : t;
}

function captionOf(m: proto.IMessage): string | undefined {
  return (m.imageMessage?.caption ?? m.videoMessage?.caption ?? m.documentMessage?.caption ?? undefined) || undefined;
}

function contextOf(m: proto.IMessage): proto.IContextInfo | null | undefined {
  const type = getContentType(m);
  const inner = type ? (m[type] as { contextInfo?: proto.IContextInfo | null } | string | null) : undefined;
  return typeof inner === 'object' && inner !== null ? inner.contextInfo : undefined;
}

const b64 = (v: Uint8Array | null | undefined) => (v && v.length ? Buffer.from(v).toString('base64') : undefined);

function mediaOf(x: proto.Message.IDocumentMessage & proto.Message.IAudioMessage): InboundMedia {
  const media: InboundMedia = {};
  if (x.mimetype) media.mimetype = x.mimetype;
  if (x.fileLength != null) media.size = Number(x.fileLength);
  if (x.fileSha256?.length) media.sha256 = Buffer.from(x.fileSha256).toString('hex');
  if (x.fileName) media.fileName = x.fileName;
  if (x.seconds) media.seconds = x.seconds;
  if (x.ptt) media.voiceNote = true;
  if (x.url) media.url = x.url;
  if (x.directPath) media.directPath = x.directPath;
  const key = b64(x.mediaKey);
  if (key) media.mediaKey = key;
  const enc = b64(x.fileEncSha256);
  if (enc) media.fileEncSha256 = enc;
  if (x.mediaKeyTimestamp != null) media.mediaKeyTimestamp = Number(x.mediaKeyTimestamp);
  return media;
}

/** The fields a client needs to download media itself; dropped once the gateway has the bytes. */
export const DOWNLOAD_FIELDS = ['url', 'directPath', 'mediaKey', 'fileEncSha256', 'mediaKeyTimestamp'] as const;
