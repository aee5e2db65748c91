/**
 * One Baileys socket, wrapped: the only place besides the auth store and trust.ts that
 * talks to `@whiskeysockets/baileys`. It turns Baileys' events into plain callbacks and
 * offers the few operations the account runtime needs. Liveness is not Baileys' job
 * here: its own keepalive is pushed out of reach (KEEPALIVE_DISABLED_MS) so that only
 * the account machine decides when a link is dead.
 */
import makeWASocket, {
  Browsers,
  S_WHATSAPP_NET,
  type AuthenticationState,
  type BinaryNode,
  type proto,
  type WAMessage,
  type WASocket,
} from '@whiskeysockets/baileys';
import type { Logger } from 'pino';

/**
 * Baileys ends a socket with 408 when no frame was read for keepAliveIntervalMs + 5 s
 * and pings on the same period. A day keeps both from ever firing while the machine
 * probes on its own cadence (setInterval caps at 2^31-1 ms; beyond that Node fires
 * after 1 ms, so "infinite" is not an option).
 */
export const KEEPALIVE_DISABLED_MS = 86_400_000;

/** Probe kinds (see keepalive.ts for the strategies built from them). */
export type ProbeKind = 'ping' | 'presence';

export interface InboundMessage {
  waMessageId: string;
  from: string;
  chat: string;
  text?: string;
  /** ms since epoch (WhatsApp's own message time). */
  timestamp: number;
  /** `append`: queued by WhatsApp while we were away, delivered on login. */
  delivery: 'notify' | 'append';
}

export interface ConnectionEvents {
  /** Logged in (Baileys `connection: 'open'`). */
  opened(): void;
  /** The socket is gone; `statusCode` is Baileys' DisconnectReason, if any. */
  closed(statusCode: number | undefined, message: string | undefined): void;
  qr(qr: string): void;
  /** Any frame read from the server. */
  frame(): void;
  /** The server's `<ack class=message>` for one of our messages. */
  serverAck(waMessageId: string, error: string | undefined): void;
  /** Delivery (3) or read (4) receipt for one of our messages. */
  receipt(waMessageId: string, ack: 'delivered' | 'read'): void;
  inbound(message: InboundMessage): void;
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

export interface BaileysConnection {
  /** Write a text message; resolves once written (not acked: see serverAck). */
  sendText(jid: string, text: string, waMessageId: string): Promise<void>;
  /** One keepalive probe; resolves when answered (ping) or written (presence). */
  probe(kind: ProbeKind): Promise<void>;
  /** Ask WhatsApp for an 8-character pairing code for `phone` (digits). */
  requestPairingCode(phone: string): Promise<string>;
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
    logger: options.logger,
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

  sock.ev.on('connection.update', (update) => {
    if (update.qr) on.qr(update.qr);
    if (update.connection === 'open') on.opened();
    if (update.connection === 'close') {
      const error = update.lastDisconnect?.error as { output?: { statusCode?: number }; message?: string } | undefined;
      on.closed(error?.output?.statusCode, error?.message);
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
      const receipt = update.status === undefined || update.status === null ? undefined : RECEIPT_BY_STATUS[update.status];
      if (key.fromMe && key.id && receipt) on.receipt(key.id, receipt);
    }
  });
  sock.ev.on('messages.upsert', ({ messages, type }) => {
    for (const m of messages) {
      const inbound = toInbound(m, type === 'append' ? 'append' : 'notify');
      if (inbound) on.inbound(inbound);
    }
  });

  return {
    sendText: async (jid, text, waMessageId) => {
      await sock.sendMessage(jid, { text }, { messageId: waMessageId });
    },
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
      sock.end(undefined);
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
  if (key.fromMe || !key.id || !key.remoteJid || !m.message || m.message.protocolMessage) return undefined;
  const text = m.message.conversation ?? m.message.extendedTextMessage?.text ?? undefined;
  const ts = typeof m.messageTimestamp === 'number' ? m.messageTimestamp : Number(m.messageTimestamp ?? 0);
  // v7 addresses chats by LID; the phone-number JID (the `Alt`) is what users send to,
  // so it is preferred when WhatsApp supplies it.
  const chat = preferPhoneJid(key.remoteJid, key.remoteJidAlt);
  const from = key.participant ? preferPhoneJid(key.participant, key.participantAlt) : chat;
  return {
    waMessageId: key.id,
    from,
    chat,
    ...(text !== undefined && text !== null ? { text } : {}),
    timestamp: ts * 1000,
    delivery,
  };
}

function preferPhoneJid(jid: string, alt: string | null | undefined): string {
  return alt && alt.endsWith('@s.whatsapp.net') ? alt : jid;
}
