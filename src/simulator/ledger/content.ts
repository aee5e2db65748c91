// What a decrypted proto.Message holds, in the ledger's terms: the kind and its fields
// (caption, mimetype, file name, location, vCard, quoted id, reaction, edit, revoke), and
// for media what the simulator needs to fetch and decrypt the uploaded blob. One reader
// for both directions: messages the account sent and messages contacts pushed.
import { getContentType, normalizeMessageContent, proto } from '../wa.js';

/** Baileys' media type (the HKDF info key) per proto field. */
const MEDIA_FIELDS = {
  imageMessage: 'image',
  videoMessage: 'video',
  audioMessage: 'audio',
  documentMessage: 'document',
  stickerMessage: 'sticker',
} as const;
type MediaField = keyof typeof MEDIA_FIELDS;
export type MediaType = (typeof MEDIA_FIELDS)[MediaField];

export interface MediaRef {
  mediaType: MediaType;
  mediaKey: Buffer;
  directPath?: string;
  url?: string;
}

/** Fields added to a ledger entry; each is absent when it does not apply. */
export interface ContentFields {
  /** Normalized kind: text, image, video, audio, document, sticker, location, contact,
   * reaction, edit, revoke; otherwise the proto field name (e.g. pollCreationMessage). */
  type: string;
  caption?: string;
  mimetype?: string;
  fileName?: string;
  /** Audio sent as a voice note. */
  ptt?: boolean;
  /** Size the message declares (`fileLength`), in bytes. */
  fileLength?: number;
  seconds?: number;
  /** sha256 of the plaintext as the message declares it (hex). */
  fileSha256?: string;
  /** sha256 of the encrypted blob as the message declares it (hex). */
  fileEncSha256?: string;
  directPath?: string;
  location?: { latitude: number; longitude: number; name?: string; address?: string };
  contact?: { displayName?: string; vcard: string };
  /** Several contact cards in one message (contactsArrayMessage). */
  contacts?: { displayName?: string; vcard: string }[];
  /** A reply: the stanza id of the quoted message. */
  quotedId?: string;
  /** Emoji reaction to `targetId`; an empty emoji removes the reaction. */
  reaction?: { targetId: string; emoji: string };
  /** Edit of our earlier message `targetId`, with the new text. */
  edit?: { targetId: string; text?: string };
  /** Delete for everyone of `targetId`. */
  revoke?: { targetId: string };
}

export interface ReadContent {
  text: string | undefined;
  /** The ledger's historic `kind`: 'text', or the first proto.Message field name. */
  kind: string;
  fields: ContentFields;
  media?: MediaRef;
}

const hex = (b: Uint8Array | null | undefined): string | undefined =>
  b && b.length ? Buffer.from(b).toString('hex') : undefined;
const str = (s: string | null | undefined): string | undefined => (s === null || s === undefined ? undefined : s);
const num = (n: number | Long | null | undefined): number | undefined =>
  n === null || n === undefined ? undefined : Number(n);
interface Long {
  toNumber(): number;
}

function textOf(m: proto.IMessage | null | undefined): string | undefined {
  return str(m?.conversation) ?? str(m?.extendedTextMessage?.text);
}

/** Drops undefined values, so entries carry only what applies. */
function compact<R extends object>(o: { [K in keyof R]: R[K] | undefined }): R {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as R;
}

export function readContent(message: proto.IMessage): ReadContent {
  const kind =
    textOf(message) !== undefined ? 'text' : (Object.keys(proto.Message.fromObject(message).toJSON())[0] ?? 'empty');
  const m = normalizeMessageContent(message) ?? message;
  const field = getContentType(m);
  const text = textOf(m);
  if (text !== undefined) {
    const quotedId = str(m.extendedTextMessage?.contextInfo?.stanzaId);
    return { text, kind, fields: compact<ContentFields>({ type: 'text', quotedId }) };
  }
  if (field && field in MEDIA_FIELDS) {
    const mediaType = MEDIA_FIELDS[field as MediaField];
    const c = m[field as MediaField] as proto.Message.IImageMessage &
      proto.Message.IDocumentMessage &
      proto.Message.IAudioMessage;
    const fields = compact<ContentFields>({
      type: mediaType,
      caption: str(c.caption),
      mimetype: str(c.mimetype),
      fileName: str(c.fileName),
      ptt: mediaType === 'audio' ? Boolean(c.ptt) : undefined,
      fileLength: num(c.fileLength),
      seconds: num(c.seconds),
      fileSha256: hex(c.fileSha256),
      fileEncSha256: hex(c.fileEncSha256),
      directPath: str(c.directPath),
      quotedId: str(c.contextInfo?.stanzaId),
    });
    const media: MediaRef | undefined = c.mediaKey?.length
      ? compact<MediaRef>({
          mediaType,
          mediaKey: Buffer.from(c.mediaKey),
          directPath: str(c.directPath),
          url: str(c.url),
        })
      : undefined;
    return media ? { text, kind, fields, media } : { text, kind, fields };
  }
  return { text, kind, fields: otherFields(m, field) };
}

function otherFields(m: proto.IMessage, field: string | undefined): ContentFields {
  if (m.locationMessage) {
    const l = m.locationMessage;
    return compact<ContentFields>({
      type: 'location',
      location: compact<NonNullable<ContentFields['location']>>({
        latitude: l.degreesLatitude ?? 0,
        longitude: l.degreesLongitude ?? 0,
        name: str(l.name),
        address: str(l.address),
      }),
      quotedId: str(l.contextInfo?.stanzaId),
    });
  }
  if (m.contactMessage) {
    const c = m.contactMessage;
    return compact<ContentFields>({
      type: 'contact',
      contact: compact<NonNullable<ContentFields['contact']>>({
        displayName: str(c.displayName),
        vcard: c.vcard ?? '',
      }),
      quotedId: str(c.contextInfo?.stanzaId),
    });
  }
  if (m.contactsArrayMessage) {
    const cards = (m.contactsArrayMessage.contacts ?? []).map((c) =>
      compact<{ displayName?: string; vcard: string }>({ displayName: str(c.displayName), vcard: c.vcard ?? '' }),
    );
    return { type: 'contacts', contacts: cards };
  }
  if (m.reactionMessage) {
    const r = m.reactionMessage;
    return { type: 'reaction', reaction: { targetId: r.key?.id ?? '', emoji: r.text ?? '' } };
  }
  const p = m.protocolMessage;
  if (p?.type === proto.Message.ProtocolMessage.Type.REVOKE)
    return { type: 'revoke', revoke: { targetId: p.key?.id ?? '' } };
  if (p?.type === proto.Message.ProtocolMessage.Type.MESSAGE_EDIT) {
    return {
      type: 'edit',
      edit: compact<NonNullable<ContentFields['edit']>>({ targetId: p.key?.id ?? '', text: textOf(p.editedMessage) }),
    };
  }
  return { type: field ?? 'empty' };
}
