/**
 * Chats of one account beyond sending (issue 14): the group list, read receipts, chat state
 * (typing), per-participant receipts of our group sends and group membership changes.
 *
 * While the account is not connected: `read` is held and sent on the next login (a read
 * receipt is idempotent, and a read the user did must reach the sender eventually); held
 * reads are merged per chat and kept in memory only (a restart forgets them: the messages
 * stay unread, nothing wrong is sent). `presence` and `groups` are refused with
 * `unavailable`: typing shown minutes late would be a lie, and the group list is WhatsApp's.
 */
import type { Logger } from 'pino';
import { isConnectionGone, type ConnectionEvents, type InboundMessage } from '../baileys/connection.js';
import type { GroupParticipantsChange, GroupReceipt } from '../baileys/groups.js';
import { WaError, type ChatState, type GroupSummary } from '../contract/index.js';
import { Lru } from './lru.js';
import type { FactSink } from './port.js';
import type { SendIo } from './send-io.js';
import type { LiveConnection } from './socket-io.js';

/** Group messages whose sender is remembered for their read receipt. */
const SENDER_MEMORY = 10_000;
/** Receipt statuses already reported as `send.acked` (first per send and status). */
const ACKED_MEMORY = 10_000;

export interface ChatIoOptions {
  account: string;
  sink: FactSink;
  log: Logger;
  /** The account's socket, if logged in (`open`). */
  open(): LiveConnection | null;
  /** The send a WhatsApp message id belongs to, and its `send.acked` delivered/read. */
  sends: Pick<SendIo, 'sendIdOf' | 'receipt'>;
}

export class ChatIo {
  private readonly senders = new Lru<string>(SENDER_MEMORY);
  private readonly ackedOnce = new Lru<true>(ACKED_MEMORY);
  /** Chat → ids, in the order they were asked for. */
  private readonly heldReads = new Map<string, Set<string>>();

  constructor(private readonly o: ChatIoOptions) {}

  /** Every inbound message: a group message's sender is needed to mark it read. */
  inbound(m: InboundMessage): void {
    if (m.senderJid) this.senders.set(`${m.chat}\u0000${m.waMessageId}`, m.senderJid);
  }

  /** The socket's callbacks this owns. */
  hooks(): Pick<ConnectionEvents, 'groupReceipt' | 'groupParticipants'> {
    return { groupReceipt: (r) => this.groupReceipt(r), groupParticipants: (c) => this.groupParticipants(c) };
  }

  async groups(): Promise<GroupSummary[]> {
    return this.live('groups').conn.groups();
  }

  async presence(chat: string, state: ChatState): Promise<void> {
    const live = this.live('presence');
    try {
      await live.conn.chatState(chat, state);
    } catch (err) {
      if (isConnectionGone(err)) throw new WaError('unavailable', 'the account lost its connection; retry');
      throw err;
    }
  }

  async read(chat: string, ids: string[]): Promise<'sent' | 'held'> {
    const live = this.o.open();
    if (!live) {
      this.hold(chat, ids);
      return 'held';
    }
    try {
      await live.conn.read(chat, ids, (c, id) => this.senders.get(`${c}\u0000${id}`));
      return 'sent';
    } catch (err) {
      if (!isConnectionGone(err)) throw err;
      this.hold(chat, ids);
      return 'held';
    }
  }

  /** Logged in: the held reads go out, oldest chat first; one that fails stays held. */
  opened(): void {
    const live = this.o.open();
    if (!live || this.heldReads.size === 0) return;
    const held = [...this.heldReads];
    this.heldReads.clear();
    for (const [chat, ids] of held) {
      live.conn
        .read(chat, [...ids], (c, id) => this.senders.get(`${c}\u0000${id}`))
        .then(() => this.o.log.info({ chat, count: ids.size }, 'held read receipts sent'))
        .catch((err: unknown) => {
          this.hold(chat, [...ids]);
          this.o.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'held read receipts not sent');
        });
    }
  }

  groupReceipt(r: GroupReceipt): void {
    const id = this.o.sends.sendIdOf(r.waMessageId);
    if (!id) return;
    const once = `${r.waMessageId}\u0000${r.status}`;
    if (!this.ackedOnce.has(once)) {
      this.ackedOnce.set(once, true);
      this.o.sends.receipt(r.waMessageId, r.status);
    }
    this.o.sink({ account: this.o.account, type: 'receipt', id, ...r });
  }

  groupParticipants(c: GroupParticipantsChange): void {
    this.o.sink({ account: this.o.account, type: 'group.participants', ...c });
  }

  private hold(chat: string, ids: string[]): void {
    const set = this.heldReads.get(chat) ?? new Set<string>();
    for (const id of ids) set.add(id);
    this.heldReads.set(chat, set);
  }

  private live(what: string): LiveConnection {
    const live = this.o.open();
    if (!live)
      throw new WaError('unavailable', `account ${this.o.account} is not connected; ${what} needs a live link`);
    return live;
  }
}
