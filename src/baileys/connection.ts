/**
 * One Baileys socket, wrapped: the only place besides the auth store and trust.ts that
 * talks to `@whiskeysockets/baileys`. It turns Baileys' events into plain callbacks and
 * offers the few operations the account runtime needs. Liveness is not Baileys' job
 * here: its own keepalive is pushed out of reach (KEEPALIVE_DISABLED_MS) so that only
 * the account machine decides when a link is dead.
 */
import makeWASocket, {
  Browsers,
  downloadMediaMessage,
  DEFAULT_CONNECTION_CONFIG,
  S_WHATSAPP_NET,
  type AuthenticationState,
  type BinaryNode,
  type proto,
  type WAMessage,
  type WASocket,
} from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import type { QueuedContent } from '../contract/index.js';
import { type MediaIo, sendContent } from './content.js';
import { type InboundContent, inboundContent } from './inbound-content.js';
import { preferPhoneJid } from './jid-prefer.js';
import { baileysLogger } from './log-levels.js';
import { toUndecryptable, type UndecryptableMessage } from './undecryptable.js';
import type { ChatState, GroupSummary } from '../contract/index.js';
import {
  listGroups,
  readMessages,
  sendChatState,
  watchGroups,
  type GroupEvents,
  type ParticipantOf,
} from './groups.js';

/**
 * Baileys ends a socket with 408 when no frame was read for keepAliveIntervalMs + 5 s
 * and pings on the same period. A day keeps both from ever firing while the machine
 * probes on its own cadence (setInterval caps at 2^31-1 ms; beyond that Node fires
 * after 1 ms, so "infinite" is not an option).
 */
export const KEEPALIVE_DISABLED_MS = 86_400_000;

/** Where Baileys connects when no `whatsapp.url` is configured. */
export const WHATSAPP_WS_URL = String(DEFAULT_CONNECTION_CONFIG.waWebSocketUrl);

/** Probe kinds (see keepalive.ts for the strategies built from them). */
export type ProbeKind = 'ping' | 'presence';

export interface InboundMessage {
  waMessageId: string;
  from: string;
  chat: string;
  /** Group messages: the sender as WhatsApp addressed it (a LID in LID groups), for its read receipt. */
  senderJid?: string;
  text?: string;
  /** ms since epoch (WhatsApp's own message time). */
  timestamp: number;
  /** `append`: queued by WhatsApp while we were away, delivered on login. */
  delivery: 'notify' | 'append';
  /** The kind and its fields, or a reaction/edit/revoke (inbound-content.ts). */
  content?: InboundContent;
  /** Media only: download and decrypt it (Baileys asks the sender to re-upload an expired one). */
  download?: () => Promise<Uint8Array>;
}

export interface ConnectionEvents extends GroupEvents {
  /** Logged in (Baileys `connection: 'open'`). */
  opened(): void;
  /**
   * The socket is gone; `statusCode` is Baileys' DisconnectReason, if any. `unreachable`:
   * the server was never reached (the WebSocket failed before it opened: DNS, refused,
   * TLS, proxy), with the network error code (see `unreachableCause`).
   */
  closed(
    statusCode: number | undefined,
    message: string | undefined,
    unreachable: string | undefined,
    /** The `<failure>` attributes (Baileys' Boom `data`), e.g. a 402 ban's `expire` and `code`. */
    failure?: Record<string, string>,
  ): void;
  qr(qr: string): void;
  /** Any frame read from the server. */
  frame(): void;
  /** The server's `<ack class=message>` for one of our messages. */
  serverAck(waMessageId: string, error: string | undefined): void;
  /** Delivery (3) or read (4) receipt for one of our messages. */
  receipt(waMessageId: string, ack: 'delivered' | 'read'): void;
  inbound(message: InboundMessage): void;
  /** A message Baileys could not decrypt (it asked the sender for it again). */
  undecryptable(message: UndecryptableMessage): void;
  /** Credentials changed: persist them. `registered` once a pairing completed. */
  credsChanged(me: { id: string } | undefined): void;
}

export interface ConnectionOptions {
  /** WebSocket URL; undefined = WhatsApp's own. */
  waWebSocketUrl?: string;
  auth: AuthenticationState;
  logger: Logger;
  connectTimeoutMs: number;
  /** For message retry requests: the content of one of our sent messages. */
  getMessage(waMessageId: string): proto.IMessage | undefined;
}

/**
 * The socket is closing or closed: the message may or may not have left. Not a refusal:
 * the send stays in flight and the close that follows requeues it for the next
 * connection (same WhatsApp message id, so a copy that did leave is deduplicated).
 */
export class ConnectionGoneError extends Error {
  override readonly name = 'ConnectionGoneError';
}

export function isConnectionGone(err: unknown): err is ConnectionGoneError {
  return err instanceof ConnectionGoneError;
}

// Baileys throws Boom 428 "Connection Closed" for writes on a socket that is going away
// (rc14: `end()` awaits the WebSocket close handshake before it reports the close). Other
// errors (a query timing out on a live socket) are not "gone": the close that would
// requeue the send may never come, so they fail the send instead.
const GONE_STATUS = new Set([428]);

function asConnectionGone(err: unknown, closing: boolean): unknown {
  const status = (err as { output?: { statusCode?: number } } | null)?.output?.statusCode;
  if (closing || (status !== undefined && GONE_STATUS.has(status))) {
    return new ConnectionGoneError(err instanceof Error ? err.message : 'connection gone', { cause: err });
  }
  return err;
}

/**
 * What a WebSocket error before the socket opened says about the network: the system or
 * TLS error code (ENOTFOUND, ECONNREFUSED, CERT_HAS_EXPIRED, …), else its message.
 */
export function unreachableCause(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code) return code;
  return (err instanceof Error ? err.message : String(err)).slice(0, 128) || 'unknown';
}

export interface BaileysConnection {
  /** Write a text message; resolves once written (not acked: see serverAck). Throws ConnectionGoneError while the socket goes away. */
  sendText(jid: string, text: string, waMessageId: string): Promise<void>;
  /** Write any kind (content.ts); resolves with the message as sent. Throws ConnectionGoneError as sendText. */
  sendContent(
    jid: string,
    content: QueuedContent,
    waMessageId: string,
    media: MediaIo | undefined,
  ): Promise<proto.IMessage | undefined>;
  /** One keepalive probe; resolves when answered (ping) or written (presence). */
  probe(kind: ProbeKind): Promise<void>;
  /** Ask WhatsApp for an 8-character pairing code for `phone` (digits). */
  requestPairingCode(phone: string): Promise<string>;
  /** The groups the account is in, with their metadata. */
  groups(): Promise<GroupSummary[]>;
  /** Read receipts for messages of `chat`. */
  read(chat: string, ids: string[], participantOf: ParticipantOf): Promise<void>;
  /** Typing / recording / paused in `chat`. */
  chatState(chat: string, state: ChatState): Promise<void>;
  /** Close; `closed` still fires. Idempotent. */
  end(): void;
  /** Unlink this device at WhatsApp, then close (Baileys closes with 401). */
  logout(): Promise<void>;
}

// proto.WebMessageInfo.Status: 2 SERVER_ACK, 3 DELIVERY_ACK, 4 READ, 5 PLAYED.
const RECEIPT_BY_STATUS: Record<number, 'delivered' | 'read'> = { 3: 'delivered', 4: 'read', 5: 'read' };

export function openConnection(options: ConnectionOptions, on: ConnectionEvents): BaileysConnection {
  const sock: WASocket = makeWASocket({
    ...(options.waWebSocketUrl ? { waWebSocketUrl: options.waWebSocketUrl } : {}),
    auth: options.auth,
    // Baileys calls routine disconnects errors; they are not (log-levels.ts).
    logger: baileysLogger(options.logger),
    browser: Browsers.ubuntu('wa-connd'),
    keepAliveIntervalMs: KEEPALIVE_DISABLED_MS,
    connectTimeoutMs: options.connectTimeoutMs,
    // A gateway must not turn the phone's notifications off by appearing online.
    markOnlineOnConnect: false,
    // History sync stays on: Baileys learns phone-number ↔ LID mappings from it (v7
    // warns that turning it off causes session errors); full history stays off.
    syncFullHistory: false,
    getMessage: async (key) => (key.id ? options.getMessage(key.id) : undefined),
  });
  let ended = false;
  // Set as soon as the server ends the stream, before Baileys reports the close.
  let closing = false;
  const markClosing = () => {
    closing = true;
  };
  sock.ws.on('CB:stream:error', markClosing);
  sock.ws.on('CB:xmlstreamend', markClosing);
  sock.ws.on('CB:failure', markClosing);
  sock.ws.on('close', markClosing);
  // A WebSocket that fails before it opens never reached the server; Baileys reports that
  // as 408 (or 500) like a server's timeout, so the first such error is kept here.
  let wsOpened = false;
  let unreachable: string | undefined;
  sock.ws.on('open', () => {
    wsOpened = true;
  });
  sock.ws.on('error', (err: unknown) => {
    if (!wsOpened && unreachable === undefined) unreachable = unreachableCause(err);
  });

  sock.ev.on('connection.update', (update) => {
    if (update.qr) on.qr(update.qr);
    if (update.connection === 'open') on.opened();
    if (update.connection === 'close') {
      const error = update.lastDisconnect?.error as
        { output?: { statusCode?: number }; message?: string; data?: unknown } | undefined;
      on.closed(
        error?.output?.statusCode,
        error?.message,
        wsOpened ? undefined : unreachable,
        failureAttrs(error?.data),
      );
    }
  });
  sock.ev.on('creds.update', (update) => on.credsChanged(update.me ?? undefined));
  sock.ws.on('frame', () => on.frame());
  sock.ws.on('CB:ack,class:message', (node: BinaryNode) => {
    const id = node.attrs.id;
    if (id) on.serverAck(id, node.attrs.error);
  });
  sock.ev.on('messages.update', (updates) => {
    for (const { key, update } of updates) {
      const receipt =
        update.status === undefined || update.status === null ? undefined : RECEIPT_BY_STATUS[update.status];
      if (key.fromMe && key.id && receipt) on.receipt(key.id, receipt);
    }
  });
  watchGroups(sock, on);
  sock.ev.on('messages.upsert', ({ messages, type }) => {
    for (const m of messages) {
      const undecryptable = toUndecryptable(m);
      if (undecryptable) {
        on.undecryptable(undecryptable);
        continue;
      }
      const inbound = toInbound(m, type === 'append' ? 'append' : 'notify');
      if (!inbound) continue;
      if (inbound.content?.type === 'message' && inbound.content.media) {
        const ctx = { logger: baileysLogger(options.logger), reuploadRequest: sock.updateMediaMessage };
        inbound.download = () => downloadMediaMessage(m, 'buffer', {}, ctx);
      }
      on.inbound(inbound);
    }
  });

  /** Runs a socket operation; one on a socket going away is a ConnectionGoneError. */
  const onSocket = async <T>(op: () => Promise<T>): Promise<T> => {
    if (closing || ended) throw new ConnectionGoneError('the socket is closing');
    try {
      return await op();
    } catch (err) {
      throw asConnectionGone(err, closing || ended);
    }
  };

  return {
    sendText: (jid, text, waMessageId) =>
      onSocket(async () => {
        await sock.sendMessage(jid, { text }, { messageId: waMessageId });
      }),
    sendContent: (jid, content, waMessageId, media) =>
      onSocket(() => sendContent(sock, jid, content, waMessageId, media, options.logger)),
    groups: () => onSocket(() => listGroups(sock)),
    read: (chat, ids, participantOf) => onSocket(() => readMessages(sock, chat, ids, participantOf)),
    chatState: (chat, state) => onSocket(() => sendChatState(sock, chat, state)),
    probe: async (kind) => {
      if (kind === 'presence') {
        // 'unavailable' is an application stanza that does not mark the user online.
        await sock.sendPresenceUpdate('unavailable');
        return;
      }
      await sock.query({
        tag: 'iq',
        attrs: { to: S_WHATSAPP_NET, type: 'get', xmlns: 'w:p' },
        content: [{ tag: 'ping', attrs: {} }],
      });
    },
    requestPairingCode: (phone) => sock.requestPairingCode(phone),
    end: () => {
      if (ended) return;
      ended = true;
      closing = true;
      // end() settles the socket's own close; a failure there leaves nothing to undo.
      sock.end(undefined).catch((err: unknown) => options.logger.debug({ err }, 'socket end failed'));
    },
    logout: async () => {
      ended = true;
      await sock.logout();
    },
  };
}

function toInbound(m: WAMessage, delivery: InboundMessage['delivery']): InboundMessage | undefined {
  const { key } = m;
  // Protocol messages (revokes, key shares, history notices) are not messages a user sent.
  if (key.fromMe || !key.id || !key.remoteJid || !m.message) return undefined;
  const content = inboundContent(m.message);
  // Protocol messages other than revokes and edits (key shares, history notices) are not messages a user sent.
  if (m.message.protocolMessage && !content) return undefined;
  const text = content?.type === 'message' ? content.text : undefined;
  const ts = typeof m.messageTimestamp === 'number' ? m.messageTimestamp : Number(m.messageTimestamp ?? 0);
  // v7 addresses chats by LID; the phone-number JID is preferred (jid-prefer.ts).
  const chat = preferPhoneJid(key.remoteJid, key.remoteJidAlt);
  const from = key.participant ? preferPhoneJid(key.participant, key.participantAlt) : chat;
  return {
    waMessageId: key.id,
    from,
    chat,
    ...(key.participant ? { senderJid: key.participant } : {}),
    ...(text !== undefined && text !== null ? { text } : {}),
    timestamp: ts * 1000,
    delivery,
    ...(content ? { content } : {}),
  };
}

/** Baileys passes a `<failure>` node's attributes as the close error's `data` (Socket/socket.js). */
function failureAttrs(data: unknown): Record<string, string> | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data) || 'tag' in data) return undefined;
  return Object.fromEntries(Object.entries(data).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
