/**
 * The messages of an account a reaction, an edit, a delete or a reply may name, by
 * WhatsApp message id: ours (`send.sent`) and those received (`message.in`). Rebuilt
 * from the stream like the rest of the projection, so its horizon is the stream's
 * retention: a message older than that is "unknown" and a reaction to it is refused.
 * A few dozen bytes per message: a month of a busy account is a few MB.
 */
import type { EventOf, SendKind } from '../contract/index.js';

export type KnownMessage = {
  /** The chat it is in: the JID a send to it names in `to`. */
  chat: string;
  fromMe: boolean;
  /** Ours: the send kind; received: the inbound kind (`text` when the event predates kinds). */
  kind: string;
  /** Received in a group: who sent it. */
  participant?: string;
};

export class MessageIndex {
  readonly #byId = new Map<string, KnownMessage>();

  sent(waMessageId: string, chat: string, kind: SendKind): void {
    // Reactions, edits and deletes are messages too, but nothing names them.
    if (kind === 'reaction' || kind === 'edit' || kind === 'delete') return;
    this.#byId.set(waMessageId, { chat, fromMe: true, kind });
  }

  received(event: EventOf<'message.in'>): void {
    const m: KnownMessage = { chat: event.chat, fromMe: false, kind: event.kind ?? 'text' };
    if (event.from !== event.chat) m.participant = event.from;
    this.#byId.set(event.waMessageId, m);
  }

  get(waMessageId: string): KnownMessage | undefined {
    return this.#byId.get(waMessageId);
  }

  get size(): number {
    return this.#byId.size;
  }
}
