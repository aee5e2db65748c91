/**
 * The seam between the account runtime (machines + Baileys) and the NATS layer (event
 * stream, projections, command service). The runtime reports facts through a FactSink
 * and is driven through the AccountsPort; neither side knows how the other works.
 */
import type { AccountStateName } from '../../machines/index.js';
import type {
  ChatState,
  EventBody,
  EventType,
  GroupSummary,
  KeepaliveStrategy,
  MediaRef,
  QueuedContent,
  UploadedMedia,
} from '../contract/index.js';

/** A fact about one account, before the event layer stamps `v`, `at` and `seq` on it. */
export type Fact = { [T in EventType]: { account: string; type: T } & EventBody<T> }[EventType];
export type FactOf<T extends EventType> = Extract<Fact, { type: T }>;

/**
 * Receives every fact in the order it happened, per account. Must not throw and must
 * not block: publishing is the sink's business (buffering while NATS is away).
 */
export type FactSink = (fact: Fact) => void;

/** A send the event layer has already recorded as `send.queued`. */
export interface OutgoingSend {
  id: string;
  /** Normalised user or group JID. */
  to: string;
  /** A plain text message (the only kind before issue 13); `content` otherwise. */
  text?: string;
  /** What to send when it is not a plain text: media already in `WA_MEDIA`, targets resolved. */
  content?: QueuedContent;
  /** A media send whose upload finished before (`send.uploaded`): sent from this, not uploaded again. */
  uploaded?: UploadedMedia;
  /** ISO time after which a held send expires instead of going out late. */
  deadline?: string;
  /**
   * Set when the stream shows this send was already handed to WhatsApp (`send.sent`)
   * before a restart: it goes out again with the same WhatsApp message id, which the
   * receiver dedups.
   */
  waMessageId?: string;
}

export interface AccountOptions {
  keepalive?: KeepaliveStrategy;
  /** Connect as soon as added (default true). */
  connect?: boolean;
}

/** An account's chats beyond sending (src/runtime/chat-io.ts): `unavailable` while not connected, except `read`. */
export interface ChatPort {
  groups(): Promise<GroupSummary[]>;
  /** `held` while not connected: sent on the next login. */
  read(chat: string, ids: string[]): Promise<'sent' | 'held'>;
  presence(chat: string, state: ChatState): Promise<void>;
}

export interface AccountsPort {
  /** Groups, read receipts and chat state of a known account. */
  chat(account: string): ChatPort;
  list(): { account: string; state: AccountStateName }[];
  has(account: string): boolean;
  state(account: string): AccountStateName;
  /**
   * The account's credentials hold a device identity WhatsApp signed (written at
   * pair-success). False for an account never paired, or whose credentials a logout
   * cleared and that has not been paired again.
   */
  isPaired(account: string): boolean;
  add(account: string, options?: AccountOptions): Promise<void>;
  /** Stops it, draining in-flight sends for up to `drainMs` (0: close the socket at once; default: the runtime's). */
  remove(account: string, drainMs?: number): Promise<void>;
  /**
   * Hand a recorded send to the account, once. From here the runtime owns it: it goes
   * out at once when the link is up, else waits in order; past its `deadline` while
   * still held it expires (one already handed to WhatsApp is not recalled); after a
   * reconnect it is written again under the same WhatsApp message id. Every outcome
   * comes back through the FactSink: `send.sent|acked|failed|expired` (`send.failed`
   * with `logged_out` when the account is logged out). Throws `unknown_account` when
   * the account is gone.
   */
  submit(account: string, send: OutgoingSend): void;
  connect(account: string): AccountStateName;
  disconnect(account: string): AccountStateName;
  logout(account: string): Promise<AccountStateName>;
  /** QR (watch the `qr` events) or, with a phone number, a pairing code. */
  pair(account: string, phone?: string): Promise<{ method: 'qr' | 'code'; code?: string }>;
}

/** What a send carries, whichever way it was given. */
export function contentOf(send: OutgoingSend): QueuedContent {
  return send.content ?? { kind: 'text', text: send.text ?? '' };
}

/** `WA_MEDIA` as the runtime sees it (src/media/port.ts implements it on the Object Store). */
export interface MediaPort {
  /** A recorded send's bytes; throws a WaError when the object is gone or changed. */
  read(media: MediaRef): Promise<Uint8Array>;
  /** Stores received media under `name`; resolves with its size and SHA-256 (hex). */
  store(name: string, bytes: Uint8Array, mimetype: string | undefined): Promise<{ size: number; sha256: string }>;
}
