/**
 * Inbound messages become `message.in` facts, each WhatsApp message id once: after a
 * reconnect WhatsApp may deliver again (offline `append`) what was read before the drop.
 */
import type { InboundMessage } from '../baileys/connection.js';
import { isGroupJid } from '../contract/index.js';
import { Lru } from './lru.js';
import type { FactSink } from './port.js';

/** Inbound message ids remembered to drop a redelivery (offline `append` after a reconnect). */
const INBOUND_DEDUP_SIZE = 10_000;

export class Inbound {
  private readonly seen = new Lru<true>(INBOUND_DEDUP_SIZE);

  constructor(
    private readonly account: string,
    private readonly sink: FactSink,
  ) {}

  /** `chat` remembers a group message's sender (for its read receipt), redelivered or not. */
  received(m: InboundMessage, chat?: { inbound(m: InboundMessage): void }): void {
    chat?.inbound(m);
    if (this.seen.has(m.waMessageId)) return;
    this.seen.set(m.waMessageId, true);
    this.sink({
      account: this.account,
      type: 'message.in',
      waMessageId: m.waMessageId,
      from: m.from,
      chat: m.chat,
      ...(isGroupJid(m.chat) ? { participant: m.from } : {}),
      ...(m.text !== undefined ? { text: m.text } : {}),
      timestamp: new Date(m.timestamp).toISOString(),
    });
  }
}
