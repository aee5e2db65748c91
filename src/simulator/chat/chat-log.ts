// What the accounts told their contacts besides messages: read receipts (`<receipt
// type=read>`) and chat state (`<chatstate><composing|paused/>`), in arrival order, so a
// test can prove a `read` or `presence` command reached the contact.
import type { BinaryNode } from '../wa.js';
import { childrenOf } from '../wa.js';
import { parseJid, pnJid } from '../accounts/jids.js';
import type { ContactDirectory } from '../signal/contacts.js';

export type ChatLogEntry =
  | { seq: number; at: number; account: string; kind: 'read'; chat: string; ids: string[]; participant?: string }
  | { seq: number; at: number; account: string; kind: 'chatstate'; chat: string; state: string };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface ChatLogQuery {
  account?: string;
  chat?: string;
}

export class ChatLog {
  private readonly entries: ChatLogEntry[] = [];

  constructor(private readonly contacts: ContactDirectory) {}

  /** A `<receipt type=read|read-self>` the account sent for messages it received. */
  read(account: string, node: BinaryNode, ids: string[]): void {
    const type = node.attrs.type;
    if ((type !== 'read' && type !== 'read-self') || ids.length === 0) return;
    const participant = node.attrs.participant ? this.canonical(node.attrs.participant) : undefined;
    this.push({
      account,
      kind: 'read',
      chat: this.canonical(node.attrs.to),
      ids,
      ...(participant ? { participant } : {}),
    });
  }

  /** `<chatstate to><composing [media=audio]/>|<paused/></chatstate>`. */
  chatState(account: string, node: BinaryNode): void {
    const child = childrenOf(node)[0];
    if (!child) return;
    const state = child.tag === 'composing' && child.attrs.media === 'audio' ? 'recording' : child.tag;
    this.push({ account, kind: 'chatstate', chat: this.canonical(node.attrs.to), state });
  }

  query(q: ChatLogQuery = {}): ChatLogEntry[] {
    return this.entries
      .filter(
        (e) => (q.account === undefined || e.account === q.account) && (q.chat === undefined || e.chat === q.chat),
      )
      .map((e) => ({ ...e }));
  }

  clear(): void {
    this.entries.length = 0;
  }

  private push(e: DistributiveOmit<ChatLogEntry, 'seq' | 'at'>): void {
    this.entries.push({ ...e, seq: this.entries.length + 1, at: Date.now() } as ChatLogEntry);
  }

  /** Users as their phone-number jid (like the ledger's `chat`); groups as they are. */
  private canonical(jid: string | undefined): string {
    const parsed = parseJid(jid);
    if (!parsed || parsed.server === 'g.us') return jid ?? '';
    const contact = this.contacts.resolve(jid);
    return contact ? pnJid(contact.phone) : (jid ?? '');
  }
}
